// Field app (phone): my assignments as list and map, route line and ETA, navigation in Amap/Baidu,
// start → arrive → dispose with note and photo, patrol reports, household visits, availability,
// GPS pings; every write goes through the offline outbox (idempotency keys, delivered once after
// reconnect). Opened offline, the service worker serves the app and the grid's tiles, and the
// assignment list comes from the last copy kept on the phone.
import './texts-field.js';
import * as L from '../vendor/leaflet-1.9.4/leaflet-src.esm.js';
import { getJson, hasEndpoint, postJson } from './api.js';
import {
  FIELD_ZOOMS, cacheGridTiles, cachedAssignments, forgetOtherAccounts, registerServiceWorker, saveAssignments,
} from './fieldcache.js';
import { escapeHtml, t } from './i18n.js';
import { boundaryLayer, createMap, householdLayer } from './layers.js';
import { followEvents } from './live.js';
import { ensureLogin } from './login.js';
import { amapUrl, baiduUrl } from './navigate.js';
import { Outbox } from './outbox.js';
import { photoReference } from './photostore.js';
import { whoAmI } from './me.js';
import { missingSecureFeatures } from './secure.js';
import { formatTime, useTimeZone } from './clock.js';
import { renderShell, showUser } from './shell.js';
import { bindVisits } from './visits.js';

const $ = (id) => document.getElementById(id);
const WORKING_STATES = new Set(['dispatched', 'in_progress', 'returned']);
const PING_INTERVAL_MS = 15000;
const KIND_LABELS = { action: 'field.action', report: 'field.report_kind', visit: 'field.visit_kind', availability: 'field.availability', photo: 'field.photo' };
const AVAILABILITY_PATH = '/members/me/availability';
const state = { cases: new Map(), position: null, pings: [], selected: null, map: null, markers: L.layerGroup(), me: null, route: null };

function toast(text) {
  const element = $('wg-toast');
  element.textContent = text;
  element.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => element.classList.remove('show'), 2500);
}

function arrivedKey(id) { return `wangge.arrived.${id}`; }

function distanceKm(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 12742 * Math.asin(Math.sqrt(h));
}

// ETA: the road route's when fetched, else the dispatcher's road travel time, else 15 km/h straight
function etaText(item) {
  if (!state.position) return t('field.no_position');
  const road = item.route;
  if (road) return t('field.eta', { n: Math.max(1, Math.round(road.eta_s / 60)), km: (road.length_m / 1000).toFixed(1) });
  const km = distanceKm(state.position, item);
  const roadS = item.dispatch_explanation?.chosen?.travel_time_s;
  const minutes = roadS ? roadS / 60 : (km / 15) * 60;
  return t('field.eta', { n: Math.max(1, Math.round(minutes)), km: km.toFixed(1) });
}

function cardHtml(item) {
  const arrived = localStorage.getItem(arrivedKey(item.id)) === '1';
  const buttons = [];
  if (item.state === 'dispatched') buttons.push(['start', 'field.accept']);
  if (item.state === 'in_progress' && !arrived) buttons.push(['arrive', 'action.arrive']);
  if (item.state === 'in_progress') buttons.push(['dispose', 'action.dispose']);
  const form = item.state === 'in_progress'
    ? `<textarea class="wg-note" rows="2" placeholder="${t('case.note')}"></textarea><input class="wg-photo" type="file" accept="image/*" capture="environment">` : '';
  return `<li class="wg-card" data-case-id="${item.id}" data-state="${item.state}">
    <h3>#${item.id} ${escapeHtml(item.category_name)} <span class="wg-state">${t(`state.${item.state}`)}</span></h3>
    <div class="muted">${escapeHtml(item.description)}</div><div class="wg-eta">${etaText(item)}</div>${navHtml(item)}${form}
    <div class="wg-buttons">${buttons.map(([action, key]) => `<button type="button" data-action="${action}">${t(key)}</button>`).join('')}
      <button type="button" data-action="show">${t('field.map')}</button></div></li>`;
}

// links handing the destination to Amap / Baidu navigation (their datums: GCJ-02 / BD-09)
function navHtml(item) {
  const name = `#${item.id} ${item.category_name}`;
  const links = [['amap', amapUrl(item.lon, item.lat, name)], ['baidu', baiduUrl(item.lon, item.lat, name, state.position)]];
  return `<div class="wg-nav">${links.map(([app, href]) => `<a href="${escapeHtml(href)}" data-nav="${app}" target="_blank" rel="noopener">${t(`field.nav_${app}`)}</a>`).join('')}</div>`;
}

function workingCases() {
  return [...state.cases.values()].filter((c) => WORKING_STATES.has(c.state)).sort((a, b) => b.id - a.id);
}

// What the worker is typing or has picked on each card (note text, the photo input with its file),
// so a re-render caused by a live event does not wipe it.
function draftsOf(list) {
  const drafts = new Map();
  list.querySelectorAll('[data-case-id]').forEach((card) => {
    drafts.set(card.dataset.caseId, { note: card.querySelector('.wg-note')?.value, photo: card.querySelector('.wg-photo') });
  });
  return drafts;
}

function restoreDrafts(list, drafts) {
  list.querySelectorAll('[data-case-id]').forEach((card) => {
    const draft = drafts.get(card.dataset.caseId);
    const note = card.querySelector('.wg-note');
    if (!draft || !note) return;
    note.value = draft.note ?? '';
    if (draft.photo) card.querySelector('.wg-photo').replaceWith(draft.photo);
  });
}

function renderList() {
  const items = workingCases();
  const drafts = draftsOf($('wg-assignments'));
  $('wg-assignments').innerHTML = items.length ? items.map(cardHtml).join('') : `<li class="muted">${t('field.no_assignments')}</li>`;
  restoreDrafts($('wg-assignments'), drafts);
  $('wg-assignments').querySelectorAll('button[data-action]').forEach((button) => {
    const card = button.closest('[data-case-id]');
    button.addEventListener('click', () => onCardAction(Number(card.dataset.caseId), button.dataset.action, card));
  });
  renderMarkers();
}

function renderMarkers() {
  state.markers.clearLayers();
  state.cases.forEach((item) => {
    if (!WORKING_STATES.has(item.state)) return;
    L.circleMarker([item.lat, item.lon], { radius: 8, color: '#fff', weight: 2, fillColor: '#d9480f', fillOpacity: 0.9, className: 'wg-assignment' })
      .bindTooltip(`#${item.id} ${escapeHtml(item.category_name)}`).on('click', () => showRoute(item.id)).addTo(state.markers);
  });
  if (state.position) {
    L.circleMarker([state.position.lat, state.position.lon], { radius: 7, color: '#fff', weight: 2, fillColor: '#1971c2', fillOpacity: 1 })
      .bindTooltip(t('field.position')).addTo(state.markers);
  }
}

// The road route from my position (GET /cases/{id}/route); offline or unroutable: a dashed straight line
async function roadRoute(item) {
  if (!navigator.onLine) return null;
  const { lon, lat } = state.position;
  return getJson(`/cases/${item.id}/route`, { lon, lat, crs: 'wgs84' }).catch(() => null);
}

async function showRoute(id) {
  state.selected = id;
  const item = state.cases.get(id);
  selectTab('map');
  if (!item) return;
  if (state.route) state.map.removeLayer(state.route);
  state.route = null;
  let bounds = L.latLngBounds([[item.lat, item.lon]]);
  item.route = null;
  if (state.position) {
    const feature = await roadRoute(item);
    if (state.selected !== id) return; // another case was picked meanwhile
    if (feature) {
      item.route = feature.properties;
      state.route = L.geoJSON(feature, { style: { color: '#1971c2', weight: 5, className: 'wg-route-line wg-route-road' } });
    } else {
      const points = [[state.position.lat, state.position.lon], [item.lat, item.lon]];
      state.route = L.polyline(points, { color: '#1971c2', weight: 4, dashArray: '6 6', className: 'wg-route-line wg-route-straight' });
    }
    state.route.addTo(state.map);
    bounds = state.route.getBounds().extend([item.lat, item.lon]);
  }
  state.map.fitBounds(bounds.pad(0.3), { maxZoom: 17 });
  const how = item.route ? t('field.route_road') : t('field.route_straight');
  $('wg-route').textContent = `#${item.id} ${item.category_name} · ${etaText(item)} · ${how}`;
  $('wg-route').dataset.kind = item.route ? 'road' : 'straight';
}

// Queue the photo's upload (before the action citing it) and return its media reference; null when
// the file cannot be sent (the reason is shown and the action is not queued)
async function photoRef(input) {
  const file = input?.files?.[0];
  if (!file) return [];
  const { ref, error } = await photoReference(file);
  if (error) { toast(t(error)); return null; }
  await outbox.sendPhoto(file);
  return [ref];
}

function here() {
  return state.position ? { lon: state.position.lon, lat: state.position.lat } : {};
}

async function onCardAction(id, action, card) {
  if (action === 'show') { showRoute(id); return; }
  const item = state.cases.get(id);
  if (action === 'arrive') {
    localStorage.setItem(arrivedKey(id), '1');
    queuePing(true);
    renderList();
    return;
  }
  const note = card.querySelector('.wg-note')?.value ?? '';
  const media = action === 'dispose' ? await photoRef(card.querySelector('.wg-photo')) : [];
  if (media === null) return;
  // apply locally at once; the server's answer (or the live event) brings the real state
  item.state = action === 'start' ? 'in_progress' : 'disposed';
  renderList();
  await outbox.send('action', `/cases/${id}/actions/${action}`, { note, media, ...here() });
}

function queuePing(now = false) {
  if (!state.position) return;
  state.pings.push({ lon: state.position.lon, lat: state.position.lat, device_time: new Date().toISOString(), accuracy_m: state.position.accuracy });
  localStorage.setItem('wangge.pings', JSON.stringify(state.pings));
  if (now) sendPings();
}

async function sendPings() {
  if (!navigator.onLine || !state.pings.length) return;
  const batch = state.pings.slice(0, 1000);
  try {
    await postJson('/positions', { crs: 'wgs84', pings: batch });
    state.pings = state.pings.slice(batch.length); // re-sent fixes are ignored by the server
    localStorage.setItem('wangge.pings', JSON.stringify(state.pings));
  } catch { /* kept for the next round */ }
}

// Why there is no position, on screen: refused permission (and how to allow it), or no fix yet
function showPositionProblem(error) {
  const banner = $('wg-geo-denied');
  const key = !error ? 'field.geo_unsupported' : { 1: 'field.geo_denied', 2: 'field.geo_unavailable', 3: 'field.geo_timeout' }[error.code];
  banner.textContent = t(key ?? 'field.geo_unavailable');
  banner.dataset.reason = key ?? 'field.geo_unavailable';
  banner.hidden = false;
}

function watchPosition() {
  state.pings = JSON.parse(localStorage.getItem('wangge.pings') ?? '[]');
  if (!navigator.geolocation) { showPositionProblem(null); return; }
  navigator.geolocation.watchPosition((fix) => {
    const first = !state.position;
    state.position = { lon: fix.coords.longitude, lat: fix.coords.latitude, accuracy: fix.coords.accuracy };
    $('wg-geo-denied').hidden = true;
    $('wg-report-position').textContent = `${t('field.position')} ${state.position.lat.toFixed(5)}, ${state.position.lon.toFixed(5)}`;
    if (first) { queuePing(true); renderList(); }
  }, (error) => { if (error.code === 1 || !state.position) showPositionProblem(error); },
  { enableHighAccuracy: true, maximumAge: 10000, timeout: 30000 });
  setInterval(() => { queuePing(); sendPings(); }, PING_INTERVAL_MS);
}

function selectTab(name) {
  document.querySelectorAll('.wg-tabs button').forEach((b) => b.setAttribute('aria-selected', String(b.dataset.tab === name)));
  document.querySelectorAll('.wg-tab').forEach((section) => { section.hidden = section.id !== `tab-${name}`; });
  if (name === 'map') state.map.invalidateSize();
}

function showNetwork() {
  $('wg-net').textContent = navigator.onLine ? t('field.online') : t('field.offline');
  $('wg-net').dataset.online = String(navigator.onLine);
  const waiting = outbox?.size ?? 0;
  $('wg-queue').textContent = waiting ? t('field.queued', { n: waiting }) : '';
  $('wg-queue').dataset.count = String(waiting);
}

async function refreshCase(id) {
  if (!navigator.onLine) return;
  const detail = await getJson(`/cases/${id}`);
  state.cases.set(detail.id, detail);
  saveAssignments(state.me.username, workingCases());
  renderList();
}

// the last copy kept on this phone, with the time it was taken (offline, or the server unreachable)
function showCachedAssignments() {
  const cached = cachedAssignments(state.me.username);
  (cached?.items ?? []).forEach((item) => state.cases.set(item.id, item));
  const banner = $('wg-cached');
  banner.hidden = false;
  banner.dataset.cachedAt = cached?.at ?? '';
  const at = cached ? formatTime(cached.at) : null;
  banner.textContent = at ? t('field.cached_at', { at }) : t('field.nothing_cached');
  renderList();
}

async function loadAssignments() {
  if (!navigator.onLine) { showCachedAssignments(); return; }
  try {
    const page = await getJson('/cases', { limit: 200 });
    await Promise.all(page.items.filter((c) => WORKING_STATES.has(c.state)).map((c) => getJson(`/cases/${c.id}`)
      .then((detail) => state.cases.set(detail.id, detail))));
  } catch (error) {
    if (error.status) throw error; // the server answered: a real error, not a missing network
    showCachedAssignments();
    return;
  }
  saveAssignments(state.me.username, workingCases());
  $('wg-cached').hidden = true;
  renderList();
}

async function loadCategories() {
  const select = $('wg-report-category');
  if (navigator.onLine && !(await hasEndpoint('/open311/v2/services.{fmt}'))) return;
  const services = await getJson('/open311/v2/services.json');
  select.innerHTML = services.map((s) => `<option value="${s.service_code}">${escapeHtml(s.service_name)} (${s.service_code})</option>`).join('');
}

function bindForms() {
  $('wg-report-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!state.position) { toast(t('field.no_position')); return; }
    const media = await photoRef($('wg-report-photo'));
    if (media === null) return;
    const body = {
      category_code: $('wg-report-category').value, description: $('wg-report-description').value,
      media, crs: 'wgs84', ...here(),
    };
    event.target.reset();
    await outbox.send('report', '/cases', body);
  });
  bindVisits({ position: () => state.position, outbox, toast });
  document.querySelectorAll('.wg-tabs button').forEach((b) => b.addEventListener('click', () => selectTab(b.dataset.tab)));
}

async function bindAvailability() {
  if (!navigator.onLine || !(await hasEndpoint(AVAILABILITY_PATH))) return; // the toggle appears once the API offers it
  const me = await getJson('/members/me').catch(() => null);
  if (!me) return; // an account without a team member has no availability to set
  $('wg-availability-box').hidden = false;
  $('wg-availability').checked = me.status !== 'off_duty';
  $('wg-availability').addEventListener('change', (event) => {
    outbox.send('availability', AVAILABILITY_PATH, { status: event.target.checked ? 'available' : 'off_duty' });
  });
}

let outbox = null;

// Not a secure context: say why and what to do, and ask for no password over plain HTTP
function showInsecure(missing) {
  const box = $('wg-insecure');
  box.innerHTML = `<h2>${t('field.insecure_title')}</h2><p>${t('field.insecure', { origin: escapeHtml(window.location.origin) })}</p>
    <p class="muted">${t('field.insecure_missing', { list: escapeHtml(missing.join(', ')) })}</p>`;
  box.hidden = false;
  document.querySelectorAll('.wg-tabs, .wg-field-main, .wg-field-status').forEach((element) => { element.hidden = true; });
  document.body.dataset.secure = 'false';
}

function buildMap(config) {
  state.map = createMap('map', config, { zoom: 14, minZoom: FIELD_ZOOMS.min, maxZoom: FIELD_ZOOMS.max });
  const grids = boundaryLayer('grids');
  grids.on('tiledecoded', ({ features }) => {
    document.body.dataset.gridTiles = String(Number(document.body.dataset.gridTiles ?? 0) + 1);
    document.body.dataset.gridFeatures = String(Number(document.body.dataset.gridFeatures ?? 0) + features);
  });
  [boundaryLayer('roads'), grids, householdLayer()].forEach((layer) => layer.addTo(state.map));
  state.markers.addTo(state.map);
}

// Keep the app and this worker's grid tiles for offline use (after the first load online)
async function prepareOffline(user) {
  const ready = await registerServiceWorker();
  await forgetOtherAccounts(user.username);
  const tiles = navigator.onLine ? await whoAmI().then(cacheGridTiles).catch(() => 0) : 0;
  document.body.dataset.cachedTiles = String(tiles);
  document.body.dataset.offlineReady = String(ready && Boolean(navigator.serviceWorker.controller));
}

async function start() {
  renderShell('app.field');
  const missing = missingSecureFeatures();
  if (missing.length) { showInsecure(missing); return; }
  document.body.dataset.secure = 'true';
  const user = await ensureLogin({ offline: true });
  state.me = user;
  // offline the API cannot say who we are: the bar then shows the account kept in this tab
  if (navigator.onLine) whoAmI().then(showUser, () => showUser());
  else showUser();
  outbox = new Outbox(user.username, {
    onChange: showNetwork,
    onDelivered: (entry, body) => {
      toast(t('field.sent'));
      document.body.dataset.delivered = String(Number(document.body.dataset.delivered ?? 0) + 1);
      if (entry.kind === 'action' && body?.id) refreshCase(body.id);
      if (entry.kind === 'report' && body?.id) refreshCase(body.id);
    },
    onRejected: (entry, reason) => toast(`${t(KIND_LABELS[entry.kind] ?? 'field.action')}: ${reason}`),
  });
  window.addEventListener('online', () => { showNetwork(); sendPings(); });
  window.addEventListener('offline', showNetwork);
  showNetwork();
  bindForms();
  const config = await getJson('/config.json');
  useTimeZone(config.time_zone);
  buildMap(config);
  watchPosition();
  await Promise.all([loadAssignments(), loadCategories().catch(() => {}), bindAvailability()]);
  followEvents({
    onEvent: (event) => {
      if (event.kind === 'case' && event.case_id) refreshCase(event.case_id).catch(() => {});
    },
  });
  outbox.flush();
  document.body.dataset.ready = 'true';
  await prepareOffline(user);
}

start().catch((error) => toast(t('error.load', { reason: error.message })));
