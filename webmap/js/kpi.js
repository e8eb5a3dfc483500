// Assessment panel: KPI table per street for this month and the monthly street ranking.
import { getJson } from './api.js';
import { escapeHtml, t } from './i18n.js';

const percent = (value) => (value === null || value === undefined ? '—' : `${(value * 100).toFixed(1)}%`);

export async function renderKpis(element) {
  const now = new Date();
  const start = new Date(now.getFullYear(), now.getMonth(), 1);
  const month = `${start.getFullYear()}-${String(start.getMonth() + 1).padStart(2, '0')}`;
  const [table, ranking] = await Promise.all([
    getJson('/assessment/kpis', { level: 'street', start: start.toISOString(), end: now.toISOString() }),
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
