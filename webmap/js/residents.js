// Residents' page (/report, phones, no login): locate me or pick on the map → my district, grid,
// community and grid worker with the grid office phone (names from the database, any district
// served); report a problem with a photo (Open311 underneath, in the jurisdiction of the district
// holding the place), keep its tracking number and token on the phone, follow its status, rate the
// handling once closed.
import './texts-residents.js';
import * as L from '../vendor/leaflet-1.9.4/leaflet-src.esm.js';
import { addBasemap } from './basemap.js';
import { formatTime, useTimeZone } from './clock.js';
import { bindLanguageSwitch, escapeHtml, locale, t, translatePage } from './i18n.js';
import { imageKind } from './photostore.js';

const $ = (id) => document.getElementById(id);
const MINE_KEY = 'wangge.myreports';
// up to 3 photos, 5 MB together: the server takes at most 3 and refuses bodies over 6 MB
const MAX_PHOTOS = 3;
const MAX_PHOTO_BYTES = 5 * 1024 * 1024;
const state = { point: null, marker: null, map: null, config: {}, contact: null, lookup: null };

function toast(text) {
  const element = $('wg-toast');
  element.textContent = text;
  element.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => element.classList.remove('show'), 3000);
}

// Public calls: no account, so no Authorization header. Errors carry the server's reason.
async function publicJson(path, options = {}) {
  const response = await fetch(path, options);
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const reason = Array.isArray(body) ? body.map((e) => e.description ?? e.msg).join('; ')
      : Array.isArray(body?.detail) ? body.detail.map((e) => e.msg).join('; ') : body?.detail;
    const error = new Error(reason || `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

// crypto.randomUUID needs a secure context; getRandomValues works everywhere
function randomKey() {
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

const when = (iso) => formatTime(iso);
const mine = () => JSON.parse(localStorage.getItem(MINE_KEY) ?? '[]');
const saveMine = (items) => localStorage.setItem(MINE_KEY, JSON.stringify(items.slice(0, 50)));

function selectTab(name) {
  document.querySelectorAll('.wg-res-tabs button').forEach((b) => b.setAttribute('aria-selected', String(b.dataset.tab === name)));
  document.querySelectorAll('.wg-res-tab').forEach((section) => { section.hidden = section.id !== `tab-${name}`; });
  if (name === 'grid') state.map.invalidateSize();
}

function gridCardHtml(contact) {
  const phone = contact.office_phone
    ? `<a href="tel:${escapeHtml(contact.office_phone)}">${escapeHtml(contact.office_phone)}</a>${contact.office_phone_synthetic ? ` <span class="wg-synthetic">${t('res.synthetic')}</span>` : ''}`
    : t('res.no_phone');
  const demo = contact.demo_data ? `<p class="wg-synthetic" id="wg-demo-data">${t('res.demo_data')}</p>` : '';
  return `<h3>${escapeHtml(contact.grid_name)}</h3>${demo}<dl>
    <dt>${t('res.district')}</dt><dd id="wg-district">${escapeHtml(contact.district_name)}</dd>
    <dt>${t('res.community')}</dt><dd>${escapeHtml(contact.community_name)}</dd>
    <dt>${t('res.street')}</dt><dd>${escapeHtml(contact.street_name)}</dd>
    <dt>${t('res.worker')}</dt><dd id="wg-worker">${escapeHtml(contact.worker_name ?? t('res.no_worker'))}</dd>
    <dt>${t('res.phone')}</dt><dd id="wg-phone">${phone}</dd>
    <dt>${t('res.grid_code')}</dt><dd>${escapeHtml(contact.grid_code)}</dd></dl>`;
}

async function setPoint(lon, lat) {
  state.point = { lon, lat };
  if (state.marker) state.marker.setLatLng([lat, lon]);
  else state.marker = L.circleMarker([lat, lon], { radius: 8, color: '#fff', weight: 2, fillColor: '#d9480f', fillOpacity: 1 }).addTo(state.map);
  $('wg-new-where').textContent = t('res.where', { lat: lat.toFixed(5), lon: lon.toFixed(5) });
  state.contact = null;
  state.lookup = showContact(lon, lat);
  await state.lookup;
}

// The place's grid and district; a report of the place goes to that district's jurisdiction
async function showContact(lon, lat) {
  const card = $('wg-grid-card');
  card.hidden = false;
  try {
    const contact = await publicJson(`/residents/grid?lon=${lon}&lat=${lat}&crs=wgs84`);
    if (state.point?.lon !== lon || state.point?.lat !== lat) return; // another place was picked meanwhile
    state.contact = contact;
    card.innerHTML = gridCardHtml(contact);
    card.dataset.grid = contact.grid_code;
    card.dataset.jurisdiction = contact.jurisdiction_id;
  } catch (error) {
    card.innerHTML = `<p>${error.status === 422 ? t('res.outside') : escapeHtml(error.message)}</p>`;
    card.dataset.grid = '';
    card.dataset.jurisdiction = '';
  }
}

function locate() {
  const message = $('wg-geo-msg');
  if (!navigator.geolocation) { message.hidden = false; message.textContent = t('res.geo_unsupported'); return; }
  navigator.geolocation.getCurrentPosition((fix) => {
    message.hidden = true;
    state.map.setView([fix.coords.latitude, fix.coords.longitude], 16);
    setPoint(fix.coords.longitude, fix.coords.latitude);
  }, (error) => {
    message.hidden = false;
    message.textContent = t(error.code === 1 ? 'res.geo_denied' : 'res.geo_failed');
    message.dataset.reason = String(error.code);
  }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
}

async function buildMap() {
  state.map = L.map('map', { zoomSnap: 0.5 }).fitWorld(); // the served areas' extent once they load
  state.map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  addBasemap(state.map, state.config); // the configured preset, GCJ-02 tiles moved onto our WGS-84 layers
  L.control.scale({ imperial: false }).addTo(state.map);
  state.map.on('click', (event) => setPoint(event.latlng.lng, event.latlng.lat));
  const areas = await publicJson('/residents/areas');
  const layer = L.geoJSON(areas, {
    style: { color: '#0b6e4f', weight: 1.2, fillOpacity: 0.05 },
    onEachFeature: (feature, shape) => shape.bindTooltip(escapeHtml(feature.properties.name), { sticky: true }),
  }).addTo(state.map);
  layer.on('click', (event) => setPoint(event.latlng.lng, event.latlng.lat));
  if (areas.features.length) state.map.fitBounds(layer.getBounds(), { animate: false });
}

async function loadCategories() {
  const services = await publicJson('/open311/v2/services.json');
  const groups = new Map();
  services.forEach((s) => groups.set(s.group, [...(groups.get(s.group) ?? []), s]));
  $('wg-new-category').innerHTML = [...groups].map(([group, items]) => `<optgroup label="${escapeHtml(group)}">${
    items.map((s) => `<option value="${escapeHtml(s.service_code)}">${escapeHtml(s.service_name)}</option>`).join('')}</optgroup>`).join('');
}

async function photoProblem(files) {
  if (files.length > MAX_PHOTOS) return t('res.photo_many', { n: MAX_PHOTOS });
  if (files.reduce((total, file) => total + file.size, 0) > MAX_PHOTO_BYTES) return t('res.photo_large');
  const kinds = await Promise.all(files.map(async (file) => imageKind(new Uint8Array(await file.slice(0, 16).arrayBuffer()))));
  return kinds.every(Boolean) ? null : t('res.photo_type');
}

async function submitReport(event) {
  event.preventDefault();
  if (!state.point) { toast(t('res.where_none')); return; }
  await state.lookup;
  if (!state.contact) { toast(t('res.outside')); return; }
  const files = [...$('wg-new-photo').files];
  const problem = await photoProblem(files);
  if (problem) { toast(problem); return; }
  const form = new FormData();
  Object.entries({ jurisdiction_id: state.contact.jurisdiction_id, service_code: $('wg-new-category').value,
    lat: state.point.lat, long: state.point.lon, crs: 'wgs84',
    description: $('wg-new-description').value, api_key: state.config.residents_api_key ?? '' })
    .forEach(([key, value]) => form.append(key, String(value)));
  files.forEach((file) => form.append('media', file, file.name || 'photo'));
  $('wg-new-submit').disabled = true;
  try {
    const [answer] = await publicJson('/open311/v2/requests.json', { method: 'POST', body: form, headers: { 'Idempotency-Key': randomKey() } });
    const id = answer.service_request_id;
    saveMine([{ id, token: answer.token ?? null, at: new Date().toISOString(), rated: false }, ...mine().filter((m) => m.id !== id)]);
    event.target.reset();
    showSubmitted(id);
  } catch (error) {
    toast(t('res.failed', { reason: error.message }));
  } finally {
    $('wg-new-submit').disabled = false;
  }
}

function showSubmitted(id) {
  const card = $('wg-new-result');
  card.hidden = false;
  card.dataset.requestId = String(id);
  card.innerHTML = `<h3>${t('res.submitted')}</h3><p>${t('res.tracking_number')} <b id="wg-tracking">${id}</b></p>
    <p class="muted">${t('res.keep_number')}</p><button type="button" id="wg-follow">${t('res.follow')}</button>`;
  $('wg-follow').addEventListener('click', () => { selectTab('track'); track(id); });
  renderMine();
}

function starsHtml() {
  return `<p>${t('res.rate_prompt')}</p><div class="wg-stars">${[1, 2, 3, 4, 5].map((n) =>
    `<button type="button" data-rating="${n}" aria-label="${t('res.stars', { n })}">${'★'.repeat(n)}</button>`).join('')}</div>`;
}

async function track(id) {
  const card = $('wg-track-card');
  card.hidden = false;
  try {
    const [request] = await publicJson(`/open311/v2/requests/${encodeURIComponent(id)}.json`);
    const entry = mine().find((m) => m.id === request.service_request_id);
    const canRate = request.status === 'closed' && entry?.token && !entry.rated;
    card.dataset.status = request.status;
    card.innerHTML = `<h3>#${request.service_request_id} ${escapeHtml(request.service_name)}</h3><dl>
      <dt>${t('res.status')}</dt><dd id="wg-status">${t(`res.status_${request.status}`)} · ${escapeHtml(request.status_notes)}</dd>
      <dt>${t('res.reported_at')}</dt><dd>${when(request.requested_datetime)}</dd>
      <dt>${t('res.updated_at')}</dt><dd>${when(request.updated_datetime)}</dd>
      <dt>${t('res.agency')}</dt><dd>${escapeHtml(request.agency_responsible)}</dd></dl>
      ${canRate ? starsHtml() : ''}${entry?.rated ? `<p>${t('res.rated')}</p>` : ''}`;
    card.querySelectorAll('[data-rating]').forEach((button) => button.addEventListener('click', () => rate(entry, Number(button.dataset.rating))));
  } catch (error) {
    card.dataset.status = '';
    card.innerHTML = `<p>${error.status === 404 ? t('res.not_found', { id: escapeHtml(id) }) : escapeHtml(error.message)}</p>`;
  }
}

async function rate(entry, rating) {
  try {
    await publicJson(`/residents/reports/${entry.id}/rating`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token: entry.token, rating }),
    });
    toast(t('res.thanks'));
  } catch (error) {
    if (error.status !== 409) { toast(t('res.failed', { reason: error.message })); return; }
    toast(error.message);
  }
  saveMine(mine().map((m) => (m.id === entry.id ? { ...m, rated: true } : m)));
  document.body.dataset.rated = String(entry.id);
  await track(entry.id);
}

function renderMine() {
  const items = mine();
  $('wg-mine').innerHTML = items.length ? items.map((m) => `<li><button type="button" data-id="${m.id}">#${m.id}</button>
    <span class="muted">${when(m.at)}</span></li>`).join('') : `<li class="muted">${t('res.none_mine')}</li>`;
  $('wg-mine').querySelectorAll('button[data-id]').forEach((b) => b.addEventListener('click', () => track(Number(b.dataset.id))));
}

function bind() {
  document.querySelectorAll('.wg-res-tabs button').forEach((b) => b.addEventListener('click', () => selectTab(b.dataset.tab)));
  $('wg-locate').addEventListener('click', locate);
  $('wg-new-form').addEventListener('submit', submitReport);
  $('wg-track-form').addEventListener('submit', (event) => { event.preventDefault(); track($('wg-track-id').value.trim()); });
}

async function start() {
  translatePage();
  document.title = t('res.title');
  bindLanguageSwitch($('wg-lang'));
  state.config = await publicJson('/config.json');
  useTimeZone(state.config.time_zone);
  bind();
  renderMine();
  await Promise.all([buildMap(), loadCategories()]);
  document.body.dataset.ready = 'true';
}

start().catch((error) => toast(t('res.failed', { reason: error.message })));
