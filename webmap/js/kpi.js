// Assessment panel: KPI table per street for this month and the monthly street ranking (the month
// and its bounds in the users' zone, Beijing time, whatever the browser's own zone is).
import { getJson } from './api.js';
import { zoneName } from './clock.js';
import { escapeHtml, t } from './i18n.js';

const percent = (value) => (value === null || value === undefined ? '—' : `${(value * 100).toFixed(1)}%`);

function zoneOffset(zone) {
  const format = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
  const name = format.formatToParts(new Date()).find((part) => part.type === 'timeZoneName').value;
  return name === 'GMT' ? '+00:00' : name.slice(3);
}

// This month in the users' zone: { month: 'YYYY-MM', start, end } with explicit offsets.
export function kpiPeriod() {
  const zone = zoneName();
  const month = new Date().toLocaleDateString('en-CA', { timeZone: zone }).slice(0, 7);
  return { month, start: `${month}-01T00:00:00${zoneOffset(zone)}`, end: new Date().toISOString() };
}

export async function renderKpis(element) {
  const { month, start, end } = kpiPeriod();
  const [table, ranking] = await Promise.all([
    getJson('/assessment/kpis', { level: 'street', start, end }),
    getJson('/assessment/streets/ranking', { month }),
  ]);
  const kpiRows = table.rows.map((r) => `<tr><td>${escapeHtml(r.name)}</td><td>${r.cases_registered}</td>
    <td>${percent(r.closure_rate)}</td><td>${percent(r.on_time_closure_rate)}</td></tr>`).join('');
  const rankRows = ranking.rows.map((r) => `<tr><td>${r.rank}</td><td>${escapeHtml(r.street_name)}</td>
    <td>${r.score.toFixed(1)}</td></tr>`).join('');
  element.innerHTML = `<table class="wg-table"><thead><tr><th></th><th>${t('kpi.cases')}</th><th>${t('kpi.closure_rate')}</th>
      <th>${t('kpi.on_time')}</th></tr></thead><tbody>${kpiRows}</tbody></table>
    <h4>${t('kpi.ranking')} ${month}</h4>
    <table class="wg-table"><tbody>${rankRows}</tbody></table>`;
}
