// Planner view: two plans side by side (synchronised maps), households per community or grid as a
// choropleth of deviation from target, buildings with moved households, metrics, activation.
import './texts-field.js';
import * as L from '../vendor/leaflet-1.9.4/leaflet-src.esm.js';
import { getJson, postJson } from './api.js';
import { useTimeZone } from './clock.js';
import { escapeHtml, language, locale, t } from './i18n.js';
import { boundaryLayer, createMap } from './layers.js';
import { ensureLogin } from './login.js';
import { whoAmI } from './me.js';
import {
  WORKLOAD_RAMP, downloadCsv, renderReplay, replayDays, runReplay, workloadColour, workloadRatios,
} from './replay.js';
import { renderShell, showUser, titleWithArea } from './shell.js';
import { vectorTileLayer } from './vectortiles.js';

const $ = (id) => document.getElementById(id);
// diverging ramp: under target blue, on target pale, over target red
const DEVIATION_RAMP = [[-0.10, '#2166ac'], [-0.05, '#92c5de'], [0.05, '#f7f7f7'], [0.10, '#f4a582'], [Infinity, '#b2182b']];
const percent = (value) => `${(value * 100).toFixed(1)}%`;

function deviationColour(deviation) {
  return DEVIATION_RAMP.find(([upper]) => deviation < upper)[1];
}

function syncMaps(a, b) {
  let syncing = false;
  const follow = (from, to) => from.on('move', () => {
    if (syncing) return;
    syncing = true;
    to.setView(from.getCenter(), from.getZoom(), { animate: false });
    syncing = false;
  });
  follow(a, b);
  follow(b, a);
}

function legend(title, ramp, format) {
  const control = L.control({ position: 'bottomright' });
  control.onAdd = () => {
    const div = L.DomUtil.create('div', 'wg-legend');
    let lower = '';
    div.innerHTML = `<b>${title}</b>${ramp.map(([upper, colour]) => {
      const label = upper === Infinity ? `> ${lower}` : `${lower ? `${lower} … ` : '< '}${format(upper)}`;
      lower = format(upper);
      return `<div><i data-colour="${colour}"></i>${label}</div>`;
    }).join('')}`;
    // colours through CSSOM: a style attribute in markup is refused by the pages' CSP (style-src 'self')
    div.querySelectorAll('i[data-colour]').forEach((swatch) => { swatch.style.background = swatch.dataset.colour; });
    return div;
  };
  return control;
}

class PlanSide {
  constructor(map, titleElement) {
    this.map = map;
    this.title = titleElement;
    this.deviations = new Map();
    this.areas = null;
    this.moved = L.layerGroup().addTo(map);
    this.streets = boundaryLayer('streets').addTo(map);
  }

  // workloads: grid code -> replay row with its ratio to the mean; colours by workload when given
  show(plan, level, areas, workloads = null) {
    this.title.textContent = `${plan.name} (${t(`status.${plan.status}`)})`;
    this.deviations = new Map(areas[level].map((area) => [area.code, area]));
    const colour = (code) => {
      if (workloads) return workloads.has(code) ? workloadColour(workloads.get(code).ratio) : '#cccccc';
      const area = this.deviations.get(code);
      return area ? deviationColour(area.deviation) : '#cccccc';
    };
    const style = (p) => ({ color: '#555', weight: 0.6, fillOpacity: 0.65, fillColor: colour(p.code) });
    this.workloads = workloads;
    if (this.areas) this.map.removeLayer(this.areas);
    this.areas = vectorTileLayer({ layer: level, params: { plan_id: plan.id }, style, zIndex: 2 }).addTo(this.map);
    this.areas.on('tiledecoded', () => { document.body.dataset.tiles = String(Number(document.body.dataset.tiles ?? 0) + 1); });
    this.map.off('click');
    this.map.on('click', (event) => {
      const found = this.areas.featuresAt(event.latlng)[0];
      const area = found && this.deviations.get(found.code);
      if (!area) return;
      const load = this.workloads?.get(found.code);
      const work = load ? `<br>${t('replay.workload')} ${load.workload_hours.toLocaleString(locale())} (×${load.ratio.toFixed(2)})
        · ${t('replay.cases')} ${load.cases} · ${t('replay.on_time')} ${load.on_time_share === null ? '—' : percent(load.on_time_share)}` : '';
      L.popup().setLatLng(event.latlng).setContent(`<b>${escapeHtml(area.name)}</b> ${escapeHtml(area.code)}<br>
        ${t('households')} ${area.households.toLocaleString(locale())} / ${Math.round(area.target)} · ${percent(area.deviation)}${work}`).openOn(this.map);
    });
  }

  showMoved(collection) {
    this.moved.clearLayers();
    collection.features.forEach((f) => {
      const [lon, lat] = f.geometry.coordinates;
      const p = f.properties;
      L.circleMarker([lat, lon], {
        radius: Math.min(2 + Math.sqrt(p.moved_grid), 10), color: '#6a1b9a', weight: 1, fillColor: '#ce93d8', fillOpacity: 0.8,
        className: 'wg-moved',
      }).bindTooltip(`${t('households')} ${p.households} · ${t('layer.grids')} ${p.moved_grid} · ${t('layer.communities')} ${p.moved_community}`)
        .addTo(this.moved);
    });
  }
}

function summaryHtml(comparison, movedBuildings) {
  const share = (value, count) => `<b>${percent(value)}</b> (${count.toLocaleString(locale())})`;
  return `<div class="wg-share">${t('planner.same_community')}: ${share(comparison.share_same_community, comparison.same_community)}</div>
    <div class="wg-share" id="wg-same-grid">${t('planner.same_grid')}: ${share(comparison.share_same_grid, comparison.same_grid)}</div>
    <div class="muted">${t('planner.moved_buildings', { n: movedBuildings })}</div>`;
}

function metricsHtml(comparison) {
  const rows = [];
  const add = (label, a, b) => rows.push(`<tr><td>${escapeHtml(label)}</td><td>${a}</td><td>${b}</td></tr>`);
  [['communities', 'community_summary'], ['grids', 'grid_summary']].forEach(([level, key]) => {
    const a = comparison.areas_a[key];
    const b = comparison.areas_b[key];
    const name = t(`layer.${level}`);
    add(`${name} ${t('planner.count')}`, a.count, b.count);
    add(`${name} ${t('planner.max_dev')}`, percent(a.max_abs_deviation), percent(b.max_abs_deviation));
    add(`${name} ${t('planner.mean_dev')}`, percent(a.mean_abs_deviation), percent(b.mean_abs_deviation));
    add(`${name} ${t('planner.within5')}`, percent(a.within_5pct), percent(b.within_5pct));
    add(`${name} ${t('planner.within10')}`, percent(a.within_10pct), percent(b.within_10pct));
  });
  comparison.metrics.filter((m) => typeof m.a !== 'object' || typeof m.b !== 'object').forEach((m) => {
    const show = (v) => (typeof v === 'number' ? v.toLocaleString(locale(), { maximumFractionDigits: 3 }) : escapeHtml(v ?? '—'));
    if (typeof m.a !== 'object' && typeof m.b !== 'object') add(m.key, show(m.a), show(m.b));
  });
  return `<table class="wg-table" id="wg-metrics-table"><thead><tr><th>${t('planner.metric')}</th><th>A</th><th>B</th></tr></thead>
    <tbody>${rows.join('')}</tbody></table>`;
}

async function start() {
  renderShell('app.planner');
  await ensureLogin();
  const me = await whoAmI();
  showUser(me);
  titleWithArea('app.planner', me);
  const config = await getJson('/config.json');
  useTimeZone(config.time_zone);
  const maps = [createMap('map-a', config), createMap('map-b', config)];
  syncMaps(...maps);
  const deviationLegend = legend(t('planner.deviation'), DEVIATION_RAMP, percent).addTo(maps[1]);
  const workloadLegend = legend(t('replay.legend'), WORKLOAD_RAMP, (v) => `×${v.toFixed(2)}`);
  const sides = [new PlanSide(maps[0], $('wg-title-a')), new PlanSide(maps[1], $('wg-title-b'))];
  const streets = await getJson('/layers/streets', { simplify: 20 });
  maps[0].fitBounds(L.geoJSON(streets).getBounds(), { animate: false });
  const mayActivate = me.may_activate_plans;
  let plans = [];
  let comparison = null;
  let replay = null; // the last replay: { plan, active } of plan B and the active plan

  async function loadPlans() {
    plans = await getJson('/plans');
    const options = plans.map((p) => `<option value="${p.id}">${p.id} · ${p.district_code} · ${escapeHtml(p.name)} (${t(`status.${p.status}`)})</option>`).join('');
    $('wg-plan-a').innerHTML = options;
    $('wg-plan-b').innerHTML = options;
    const active = plans.find((p) => p.status === 'active') ?? plans[0];
    // plans compare within one district: B defaults to a draft of A's district
    const sameDistrict = plans.filter((p) => p.district_code === active?.district_code);
    const other = sameDistrict.find((p) => p.status === 'draft') ?? sameDistrict.find((p) => p.id !== active?.id) ?? active;
    if (active) $('wg-plan-a').value = active.id;
    if (other) $('wg-plan-b').value = other.id;
  }

  async function compare() {
    const a = Number($('wg-plan-a').value);
    const b = Number($('wg-plan-b').value);
    if (!a || !b) { $('wg-status').textContent = t('planner.need_two'); return; }
    $('wg-status').textContent = t('planner.loading');
    let moved;
    [comparison, moved] = await Promise.all([
      getJson(`/plans/${a}/compare/${b}`), getJson(`/plans/${a}/compare/${b}/moved`),
    ]);
    paint();
    sides[1].showMoved(moved);
    $('wg-summary').innerHTML = summaryHtml(comparison, moved.features.length);
    $('wg-metrics').innerHTML = metricsHtml(comparison);
    $('wg-activate').disabled = !mayActivate || comparison.plan_b.status !== 'draft';
    $('wg-activate').title = mayActivate ? '' : t('planner.only_planners');
    $('wg-report').disabled = !me.may_build_plan_reports;
    $('wg-report').title = me.may_build_plan_reports ? '' : t('planner.report_only');
    ['wg-replay', 'wg-replay-csv'].forEach((id) => {
      $(id).disabled = !me.may_build_plan_reports;
      $(id).title = me.may_build_plan_reports ? '' : t('replay.only');
    });
    $('wg-status').textContent = '';
    document.body.dataset.compared = `${a}-${b}`;
  }

  // colour each side by households' deviation, or by workload where the last replay covers its plan
  function paint() {
    const level = $('wg-level').value;
    const byWorkload = $('wg-colour').value === 'workload' && replay && level === 'grids';
    const ratios = new Map(byWorkload ? [replay.plan, replay.active].filter(Boolean)
      .map((r) => [r.plan_id, workloadRatios(r)]) : []);
    sides[0].show(comparison.plan_a, level, comparison.areas_a, ratios.get(comparison.plan_a.id) ?? null);
    sides[1].show(comparison.plan_b, level, comparison.areas_b, ratios.get(comparison.plan_b.id) ?? null);
    maps[1].removeControl(byWorkload ? deviationLegend : workloadLegend);
    (byWorkload ? workloadLegend : deviationLegend).addTo(maps[1]);
  }

  async function replayB() {
    $('wg-replay').disabled = true;
    $('wg-status').textContent = t('replay.running');
    try {
      replay = await runReplay(Number($('wg-plan-b').value), $('wg-since').value, $('wg-until').value);
      renderReplay(replay, $('wg-replay-result'));
      const days = replayDays(replay); // empty inputs: the server's default period, kept for the CSV
      if (!$('wg-since').value) $('wg-since').value = days.since;
      if (!$('wg-until').value) $('wg-until').value = days.until;
      $('wg-colour').disabled = false;
      $('wg-colour').value = 'workload';
      $('wg-level').value = 'grids';
      paint();
      $('wg-status').textContent = t('replay.done', { cases: replay.plan.summary.cases, s: replay.plan.summary.seconds });
      document.body.dataset.replayed = String(replay.plan.plan_id);
    } finally {
      $('wg-replay').disabled = false;
    }
  }

  $('wg-compare').addEventListener('click', () => compare().catch(showError));
  $('wg-replay').addEventListener('click', () => replayB().catch(showError));
  $('wg-replay-csv').addEventListener('click', () => downloadCsv(Number($('wg-plan-b').value), $('wg-since').value, $('wg-until').value).catch(showError));
  $('wg-colour').addEventListener('change', () => { if (comparison) paint(); });
  $('wg-report').addEventListener('click', () => buildReport(Number($('wg-plan-b').value)).catch(showError));
  $('wg-level').addEventListener('change', () => compare().catch(showError));
  $('wg-activate').addEventListener('click', () => {
    const plan = plans.find((p) => p.id === Number($('wg-plan-b').value));
    $('wg-confirm-text').textContent = t('planner.confirm', { name: plan?.name ?? '' });
    $('wg-confirm-box').hidden = false;
  });
  $('wg-confirm-activate').addEventListener('click', async () => {
    $('wg-confirm-box').hidden = true;
    try {
      const previous = $('wg-plan-a').value;
      const activated = await postJson(`/plans/${$('wg-plan-b').value}/activate`);
      await loadPlans();
      $('wg-plan-a').value = previous; // the plan just archived, next to the one now active
      $('wg-plan-b').value = activated.id;
      await compare();
      $('wg-status').textContent = t('planner.activated', { name: activated.name });
      document.body.dataset.activated = String(activated.id);
    } catch (error) {
      showError(error);
    }
  });
  await loadPlans();
  if (plans.length < 2) $('wg-status').textContent = t('planner.need_two');
  else await compare();
  document.body.dataset.ready = 'true';
}

// The report is built on the server (in a worker thread) and opened through a signed link
async function buildReport(planId) {
  const link = $('wg-report-link');
  link.hidden = true;
  $('wg-report').disabled = true;
  $('wg-status').textContent = t('planner.report_building');
  try {
    const built = await postJson(`/plans/${planId}/report`);
    link.href = language() === 'en' ? `${built.url}&lang=en` : built.url;
    link.hidden = false;
    $('wg-status').textContent = built.cached ? t('planner.report_cached') : t('planner.report_ready', { s: built.built_s });
    document.body.dataset.report = String(planId);
  } finally {
    $('wg-report').disabled = false;
  }
}

function showError(error) {
  $('wg-status').textContent = t('error.load', { reason: error.message });
}

start().catch(showError);
