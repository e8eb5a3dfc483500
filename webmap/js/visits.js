// Visits (走访签到) in the field app: the household is picked from the households near me (GET
// /households/nearby: number, building, 门牌, distance), read from the QR code at its door
// (BarcodeDetector where the browser has it) or typed as its door code, never typed as a bare id.
import { getJson } from './api.js';
import { escapeHtml, t } from './i18n.js';
import { parseDoorCode } from './doorcode.js';

const $ = (id) => document.getElementById(id);
const SCAN_EVERY_MS = 300;

function choose(id, label) {
  $('wg-visit-household').value = String(id);
  $('wg-visit-chosen').textContent = t('visit.chosen', { label });
  $('wg-visit-chosen').dataset.household = String(id);
  $('wg-visit-submit').disabled = false;
}

function itemHtml(item) {
  const door = item.door_label ? escapeHtml(item.door_label) : t('visit.no_door');
  const building = item.building_id ? t('visit.building', { id: item.building_id }) : '';
  return `<li><label><input type="radio" name="wg-household" value="${item.id}" data-door="${door}">
    <b>${door}</b> ${building} · ${t('visit.household', { id: item.id })} · ${Math.round(item.distance_m)} m</label></li>`;
}

async function showNearby(position) {
  const list = $('wg-nearby');
  if (!position) { list.innerHTML = `<li class="muted">${t('field.no_position')}</li>`; return; }
  if (!navigator.onLine) { list.innerHTML = `<li class="muted">${t('visit.offline_nearby')}</li>`; return; }
  const page = await getJson('/households/nearby', { lon: position.lon, lat: position.lat, crs: 'wgs84' });
  list.innerHTML = page.items.length ? page.items.map(itemHtml).join('') : `<li class="muted">${t('visit.none_nearby')}</li>`;
  list.dataset.count = String(page.items.length);
  list.querySelectorAll('input[name=wg-household]').forEach((input) => input.addEventListener('change', () => {
    choose(Number(input.value), `${input.dataset.door} · ${t('visit.household', { id: input.value })}`);
  }));
}

function useCode(text, toast) {
  const parsed = parseDoorCode(text);
  if (parsed.error) { toast(t(parsed.error)); return false; }
  choose(parsed.id, t('visit.household', { id: parsed.id }));
  return true;
}

async function scan(toast) {
  const video = $('wg-scan-video');
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
  } catch {
    toast(t('visit.camera_denied'));
    return;
  }
  const detector = new window.BarcodeDetector({ formats: ['qr_code'] });
  video.srcObject = stream;
  video.hidden = false;
  await video.play();
  const stop = () => { stream.getTracks().forEach((track) => track.stop()); video.hidden = true; };
  const timer = setInterval(async () => {
    const codes = await detector.detect(video).catch(() => []);
    if (codes.length && useCode(codes[0].rawValue, toast)) { clearInterval(timer); stop(); }
  }, SCAN_EVERY_MS);
  setTimeout(() => { clearInterval(timer); stop(); }, 60000);
}

export function bindVisits({ position, outbox, toast }) {
  $('wg-nearby-refresh').addEventListener('click', () => showNearby(position()).catch((error) => toast(error.message)));
  if ('BarcodeDetector' in window && navigator.mediaDevices?.getUserMedia) {
    $('wg-scan').hidden = false;
    $('wg-scan').addEventListener('click', () => scan(toast));
  }
  $('wg-code-form').addEventListener('submit', (event) => {
    event.preventDefault();
    if (useCode($('wg-door-code').value, toast)) $('wg-door-code').value = '';
  });
  $('wg-visit-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const householdId = Number($('wg-visit-household').value);
    if (!householdId) { toast(t('visit.pick_first')); return; }
    const here = position();
    const body = { household_id: householdId, note: $('wg-visit-note').value, visited_at: new Date().toISOString(),
      ...(here ? { lon: here.lon, lat: here.lat } : {}) };
    event.target.reset();
    $('wg-visit-household').value = '';
    $('wg-visit-chosen').textContent = t('visit.none_chosen');
    delete $('wg-visit-chosen').dataset.household;
    $('wg-visit-submit').disabled = true;
    await outbox.send('visit', '/visits', body);
  });
}
