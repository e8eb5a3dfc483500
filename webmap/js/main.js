// Command centre: vector-tile layers, scope selector, cases with live updates, team positions, KPIs.
import * as L from '../vendor/leaflet-1.9.4/leaflet-src.esm.js';
import { getJson, hasEndpoint } from './api.js';
import { CasePanel } from './cases.js';
import { useTimeZone } from './clock.js';
import { HotlineDesk } from './desk.js';
import { exportButtons } from './exports.js';
import { t } from './i18n.js';
import { HeatLayer, heatBins } from './heatmap.js';
import { kpiPeriod, renderKpis } from './kpi.js';
import { addLegend } from './legend.js';
import { bindFeaturePopups, boundaryLayer, createMap, householdLayer } from './layers.js';
import { followEvents } from './live.js';
import { ensureLogin } from './login.js';
import { whoAmI } from './me.js';
import { MemberLayer } from './members.js';
import { buildScopeSelector } from './scope.js';
import { buildSearch, flyToHit } from './search.js';
import { renderShell, showUser, titleWithArea } from './shell.js';
import { TrackPlayer } from './tracks.js';

const $ = (id) => document.getElementById(id);

function setStatus(text) {
  $('wg-status').textContent = text;
}

// body[data-tiles-loading] = how many tile layers are still fetching tiles of the current view
function trackLoading(map, layers) {
  const show = () => {
    const loading = Object.values(layers).filter((layer) => map.hasLayer(layer) && layer.isLoading());
    document.body.dataset.tilesLoading = String(loading.length);
  };
  Object.values(layers).forEach((layer) => layer.on('loading load tileload tileerror remove', show));
  map.on('zoomend moveend', show);
  show();
}

function addLayers(map, config, me) {
  const layers = {
    roads: boundaryLayer('roads'),
    grids: boundaryLayer('grids', config.osm_attribution),
    communities: boundaryLayer('communities'),
    streets: boundaryLayer('streets'),
  };
  if (me.may_read_households) layers.households = householdLayer();
  Object.values(layers).forEach((layer) => layer.addTo(map));
  trackLoading(map, layers);
  return layers;
}

async function startCases(map, overlays, me) {
  if (!me.may_work_cases || !(await hasEndpoint('/cases'))) {
    $('wg-cases').innerHTML = `<p class="muted">${t('cases.unavailable')}</p>`;
    return null;
  }
  const panel = new CasePanel({
    map,
    me,
    canReassign: me.may_operate_cases,
    canReadContacts: me.may_read_contacts,
    elements: { counters: $('wg-counters'), filters: $('wg-filters'), list: $('wg-case-list'), detail: $('wg-case-detail') },
  });
  panel.layer.addTo(map);
  overlays[t('layer.incidents')] = panel.layer;
  $('wg-case-detail').innerHTML = `<p class="muted">${t('case.select')}</p>`;
  await panel.load();
  return panel;
}

async function startLive(panel, members, me) {
  if (!me.may_work_cases || !(await hasEndpoint('/events/stream'))) {
    $('wg-live').textContent = t('live.unavailable');
    return null;
  }
  const received = [];
  window.wanggeEvents = received; // ids and arrival times of the latest events (for checks)
  const live = followEvents({
    onEvent: (event) => {
      received.push({ id: event.id, kind: event.kind, case: event.case_id, action: event.data?.action, at: Date.now() });
      if (received.length > 200) received.shift();
      members.onEvent(event);
      if (panel) panel.onEvent(event).catch((error) => setStatus(t('error.load', { reason: error.message })));
    },
    onResync: () => panel?.load(),
    onStatus: (status) => {
      $('wg-live').textContent = t(status === 'on' ? 'live.on' : status === 'off' ? 'live.off' : 'live.unavailable');
      $('wg-live').dataset.status = status;
    },
  });
  window.wanggeLive = live; // lets an operator (or a test) force a reconnect from the console
  return live;
}

function startHeatmap(map, overlays, scopeOf, me) {
  const heat = new HeatLayer();
  overlays[t('layer.heat')] = heat;
  const select = $('wg-heat');
  select.innerHTML = [`<option value="">${t('heat.off')}</option>`, ...[7, 30, 90].map((n) => `<option value="${n}">${t('heat.days', { n })}</option>`)].join('');
  select.disabled = false;
  select.addEventListener('change', async () => {
    if (!select.value) { map.removeLayer(heat); $('wg-heat-count').textContent = ''; return; }
    const result = await heatBins(Number(select.value), scopeOf(), me);
    heat.setBins(result.bins, result.max_count);
    heat.addTo(map);
    $('wg-heat-count').textContent = t('heat.bins', { n: result.total, cells: result.bins.length });
    $('wg-heat-count').dataset.total = String(result.total);
  });
}

// The search box: results fly the map there; a case number also opens the case.
function startSearch(map, panel) {
  buildSearch($('wg-search'), (hit) => {
    if (hit.kind !== 'case' || !panel) { flyToHit(map, hit); return; }
    // open the case first (it pans to its marker), then zoom in on it
    panel.select(Number(hit.key)).then(() => flyToHit(map, hit)).catch((error) => setStatus(error.message));
  });
}

// Category tree for the filter and the hotline desk (for the desks that may read callers, /auth/me).
async function startDesk(map, panel, me) {
  if (!panel || !(await hasEndpoint('/categories'))) return;
  const tree = await getJson('/categories');
  panel.setCategories(tree);
  if (!me.may_read_contacts || !(await hasEndpoint('/hotline/cases'))) return;
  const desk = new HotlineDesk({
    map,
    tree,
    element: $('wg-desk'),
    onCreated: (created) => {
      setStatus(t('desk.created', { id: created.id }));
      panel.select(created.id).catch((error) => setStatus(error.message));
    },
  });
  const button = $('wg-desk-open');
  button.textContent = t('desk.open');
  button.hidden = false;
  button.addEventListener('click', () => (desk.el.hidden ? desk.open() : desk.close()));
}

function startExports(panel, me) {
  const onError = (message) => setStatus(message);
  if (panel) {
    exportButtons($('wg-case-tools'), t('export.cases'), () => {
      const { limit, ...filters } = panel.filters();
      return ['/exports/cases', filters, 'cases'];
    }, onError);
  }
  if (me.scope_level === 'grid') return; // the same rule as the KPI panel below
  const { month, start, end } = kpiPeriod();
  exportButtons($('wg-kpi-tools'), t('export.kpis'), () => ['/exports/kpis', { level: 'street', start, end }, `kpi-street-${month}`], onError);
  exportButtons($('wg-kpi-tools'), t('export.ranking'), () => ['/exports/ranking', { month }, `street-ranking-${month}`], onError);
}

// The working calendar's coverage from /health: a banner from 60 days before it runs out
async function showCalendarWarning() {
  const { calendar } = await getJson('/health');
  const banner = $('wg-calendar-warning');
  if (!calendar?.warning) return;
  const values = { date: calendar.covered_until, n: calendar.days_left, year: calendar.years.at(-1) + 1 };
  banner.textContent = t(calendar.days_left < 0 ? 'calendar.ended' : 'calendar.ending', values);
  banner.hidden = false;
}

async function start() {
  renderShell('app.command');
  showCalendarWarning().catch((error) => setStatus(t('error.load', { reason: error.message })));
  const user = await ensureLogin();
  const [config, me] = await Promise.all([getJson('/config.json'), whoAmI()]);
  useTimeZone(config.time_zone);
  showUser(me);
  titleWithArea('app.command', me);
  const map = createMap('map', config);
  window.wanggeMap = map; // lets an operator (or a test) reach the map from the console
  addLegend(map);
  const layers = addLayers(map, config, me);
  const overlays = Object.fromEntries(Object.entries(layers).map(([name, layer]) => [t(`layer.${name}`), layer]));
  bindFeaturePopups(map, [['households', layers.households], ['grids', layers.grids]].filter(([, layer]) => layer));
  const members = new MemberLayer();
  members.layer.addTo(map);
  overlays[t('layer.members')] = members.layer;

  const scope = await buildScopeSelector($('wg-scope'), me);
  map.fitBounds(scope.bounds(user.scope_code), { animate: false }); // the first view: no zoom animation to outlive 'ready'
  if (await hasEndpoint('/members')) {
    members.load(me)
      .then(() => {
        document.body.dataset.members = String(members.count);
        if (me.may_read_tracks) new TrackPlayer({ map, element: $('wg-tracks'), members }).render();
      })
      .catch((error) => setStatus(t('error.load', { reason: error.message })));
  }
  const panel = await startCases(map, overlays, me).catch((error) => {
    setStatus(t('error.load', { reason: error.message }));
    return null;
  });
  L.control.layers({}, overlays, { collapsed: false, position: 'topleft' }).addTo(map);
  $('wg-scope').addEventListener('change', async (event) => {
    map.fitBounds(scope.bounds(event.target.value));
    if (panel) await panel.setScope(event.target.value);
  });
  if (panel) startHeatmap(map, overlays, () => $('wg-scope').value, me);
  startSearch(map, panel);
  await startDesk(map, panel, me).catch((error) => setStatus(t('error.load', { reason: error.message })));
  startExports(panel, me);
  await startLive(panel, members, me);
  if (me.scope_level !== 'grid' && (await hasEndpoint('/assessment/kpis'))) {
    renderKpis($('wg-kpi')).catch((error) => { $('wg-kpi').textContent = t('error.load', { reason: error.message }); });
  } else {
    $('wg-kpi').textContent = t('kpi.unavailable');
  }
  document.body.dataset.ready = 'true';
}

start().catch((error) => setStatus(t('error.load', { reason: error.message })));
