// The command centre's wall screen (/screen, 1920×1080, dark): live map of open cases, counters,
// reported/closed per hour, closure rate per day, street ranking and the overdue list, all refreshed
// when the event stream (/events/stream) says a case changed.
import * as L from '../vendor/leaflet-1.9.4/leaflet-src.esm.js';
import { getJson, hasEndpoint } from './api.js';
import { STATE_COLOURS } from './cases.js';
import { barChart, rateChart } from './charts.js';
import { formatTime, useTimeZone } from './clock.js';
import { escapeHtml, t } from './i18n.js';
import { kpiPeriod } from './kpi.js';
import { createMap } from './layers.js';
import { followEvents } from './live.js';
import { ensureLogin } from './login.js';
import { whoAmI } from './me.js';
import { renderShell, showUser, titleWithArea } from './shell.js';
import './texts-command.js';
import { vectorTileLayer } from './vectortiles.js';

const $ = (id) => document.getElementById(id);
const OPEN = (c) => !['closed', 'void'].includes(c.state);
const REFRESH_MS = 1000;
const DARK_STYLES = {
  streets: () => ({ color: '#5cc8ff', weight: 2 }),
  grids: () => ({ color: '#2c5a8a', weight: 0.6, fillColor: '#0f2a4d', fillOpacity: 0.35 }),
};
const state = { streetNames: new Map(), markers: new Map(), counts: null, members: null };

function counter(id, key, value, tone = '') {
  return `<div class="wg-screen-counter ${tone}" id="wg-screen-count-${id}" data-value="${value}"><b>${value}</b><span>${t(key)}</span></div>`;
}

function renderCounters() {
  const c = state.counts ?? { open: 0, overdue: 0, closed_today: 0 };
  $('wg-screen-counters').innerHTML = [
    counter('open', 'count.open', c.open), counter('overdue', 'count.overdue', c.overdue, c.overdue ? 'alert' : ''),
    counter('closed-today', 'count.closed_today', c.closed_today, 'good'),
    counter('members', 'screen.members_online', state.members ?? '—'),
  ].join('');
}

function renderTrends(trends) {
  const hours = trends.hourly.map((h) => formatTime(h.hour, { hour: '2-digit', minute: '2-digit', year: undefined, month: undefined, day: undefined }));
  barChart($('wg-chart-hourly'), [
    { name: t('screen.reported'), values: trends.hourly.map((h) => h.reported), className: 'bar-reported' },
    { name: t('screen.closed'), values: trends.hourly.map((h) => h.closed), className: 'bar-closed' },
  ], hours);
  $('wg-chart-hourly').insertAdjacentHTML('beforeend', `<div class="wg-chart-legend"><i class="reported"></i>${t('screen.reported')}
    <i class="closed"></i>${t('screen.closed')}</div>`);
  rateChart($('wg-chart-daily'), trends.daily.map((d) => d.closure_rate), trends.daily.map((d) => d.day.slice(5)));
}

// A scope spanning several districts (a city) ranks all their streets together: name each district.
function renderRanking(ranking, me) {
  const several = me.districts.length > 1;
  $('wg-ranking-month').textContent = ranking.month;
  $('wg-screen-ranking').innerHTML = ranking.rows.slice(0, 10).map((r) => `<tr data-street="${r.street_code}" data-district="${r.district_code}">
    <td>${r.rank}</td>${several ? `<td class="district">${escapeHtml(r.district_name)}</td>` : ''}<td>${escapeHtml(r.street_name)}</td>
    <td class="score">${r.score.toFixed(1)}</td></tr>`).join('')
    || `<tr><td>${t('screen.none')}</td></tr>`;
}

function renderOverdue(page) {
  $('wg-screen-overdue').innerHTML = page.items.map((c) => `<li data-case-id="${c.id}">#${c.id} ${escapeHtml(c.category_name.split('/').pop())}
    · ${escapeHtml(state.streetNames.get(c.street_code) ?? c.street_code)}<span class="late">${t(`state.${c.state}`)}</span></li>`).join('')
    || `<li class="none">${t('screen.none')}</li>`;
  $('wg-screen-overdue').dataset.count = String(page.items.length);
}

async function refresh(me) {
  const { month } = kpiPeriod();
  const [counts, trends, ranking, overdue, members] = await Promise.all([
    getJson('/cases/counters'), getJson('/analytics/trends', { hours: 24, days: 14 }),
    getJson('/assessment/streets/ranking', { month }), getJson('/cases', { overdue: 'true', limit: 12 }),
    me.may_read_team ? getJson('/members') : Promise.resolve(null),
  ]);
  state.counts = counts;
  state.members = members ? members.items.filter((m) => m.status !== 'off_duty').length : null;
  renderCounters();
  renderTrends(trends);
  renderRanking(ranking, me);
  renderOverdue(overdue);
  $('wg-screen-updated').textContent = t('screen.updated', { time: formatTime(new Date()) });
  document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes ?? 0) + 1);
}

function placeCase(layer, c) {
  const old = state.markers.get(c.id);
  if (old) layer.removeLayer(old);
  if (!OPEN(c)) { state.markers.delete(c.id); return; }
  const marker = L.circleMarker([c.lat, c.lon], {
    radius: 6, weight: c.overdue ? 3 : 1, color: c.overdue ? '#ff3b3b' : '#ffffff', fillOpacity: 0.95,
    fillColor: STATE_COLOURS[c.state] ?? '#fff', className: `wg-incident wg-state-${c.state}`,
  }).bindTooltip(`#${c.id} ${escapeHtml(c.category_name)}`);
  state.markers.set(c.id, marker.addTo(layer));
}

async function startMap(config) {
  const map = createMap('map', config, { zoomControl: false, attributionControl: true });
  ['grids', 'streets'].forEach((name, i) => vectorTileLayer({ layer: name, style: DARK_STYLES[name], zIndex: i + 1 }).addTo(map));
  const streets = await getJson('/layers/streets', { simplify: 20 });
  streets.features.forEach((f) => state.streetNames.set(f.properties.code, f.properties.name));
  map.fitBounds(L.geoJSON(streets).getBounds(), { padding: [10, 10], animate: false });
  const layer = L.layerGroup().addTo(map);
  const page = await getJson('/cases', { limit: 500 });
  page.items.forEach((c) => placeCase(layer, c));
  window.wanggeMap = map;
  return layer;
}

function startLive(me, layer) {
  let timer = null;
  const later = () => { clearTimeout(timer); timer = setTimeout(() => refresh(me).catch(() => {}), REFRESH_MS); };
  followEvents({
    onEvent: async (event) => {
      if (event.kind !== 'case' || !event.case_id) return;
      placeCase(layer, await getJson(`/cases/${event.case_id}`));
      later();
    },
    onResync: later,
    onStatus: (status) => { document.body.dataset.live = status; },
  });
}

async function start() {
  renderShell('app.screen');
  await ensureLogin();
  const [config, me] = await Promise.all([getJson('/config.json'), whoAmI()]);
  useTimeZone(config.time_zone);
  showUser(me); // with the demo-data notice while a district in scope is synthetic
  titleWithArea('app.screen', me);
  const layer = await startMap(config);
  renderCounters();
  if (!(await hasEndpoint('/analytics/trends'))) return;
  await refresh(me);
  startLive(me, layer);
  document.body.dataset.ready = 'true';
}

start().catch((error) => { $('wg-screen-updated').textContent = t('error.load', { reason: error.message }); });
