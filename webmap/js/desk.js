// The hotline desk (12345 受理): where (search an address or click the map), the category from the
// 大类/小类 tree, description, the caller's contact, duplicate hints before submitting.
import * as L from '../vendor/leaflet-1.9.4/leaflet-src.esm.js';
import { getJson, postJson } from './api.js';
import { formatTime } from './clock.js';
import { escapeHtml, t } from './i18n.js';
import { buildSearch, flyToHit } from './search.js';
import './texts-command.js';

const newKey = () => (window.crypto?.randomUUID ? window.crypto.randomUUID() : `${Date.now()}-${Math.random()}`);

function formHtml() {
  return `<form id="wg-desk-form" class="wg-desk-form" novalidate>
    <h3>${t('desk.title')}</h3>
    <label>${t('desk.where')}</label><div id="wg-desk-search"></div>
    <div class="muted" id="wg-desk-point">${t('desk.where_hint')}</div>
    <div class="wg-row"><label for="wg-desk-major">${t('desk.major')}</label><select id="wg-desk-major"></select>
      <label for="wg-desk-minor">${t('desk.minor')}</label><select id="wg-desk-minor" disabled></select></div>
    <div id="wg-desk-duplicates" class="wg-duplicates" aria-live="polite"></div>
    <label for="wg-desk-description">${t('desk.description')}</label>
    <textarea id="wg-desk-description" rows="3" maxlength="4000" required></textarea>
    <div class="wg-row"><label for="wg-desk-name">${t('desk.caller_name')}</label><input id="wg-desk-name" maxlength="64" size="8">
      <label for="wg-desk-phone">${t('desk.caller_phone')}</label><input id="wg-desk-phone" type="tel" maxlength="32" size="13"></div>
    <div class="muted">${t('desk.private')}</div>
    <div class="wg-row"><button type="submit" id="wg-desk-submit">${t('desk.submit')}</button>
      <button type="button" id="wg-desk-cancel">${t('desk.cancel')}</button></div>
    <div class="wg-error" id="wg-desk-error" role="alert"></div></form>`;
}

export class HotlineDesk {
  constructor({ map, element, tree, onCreated }) {
    this.map = map;
    this.el = element;
    this.tree = tree;
    this.onCreated = onCreated;
    this.point = null;
    this.marker = null;
    this.pickOnMap = (event) => this.setPoint(event.latlng.lng, event.latlng.lat);
  }

  open() {
    this.key = newKey(); // one key per call taken: a double submit is one case
    this.el.innerHTML = formHtml();
    this.el.hidden = false;
    const $ = (id) => this.el.querySelector(`#${id}`);
    buildSearch($('wg-desk-search'), (hit) => { flyToHit(this.map, hit); this.setPoint(hit.lon, hit.lat); });
    this.fillMajors($('wg-desk-major'));
    $('wg-desk-major').addEventListener('change', () => this.fillMinors());
    $('wg-desk-minor').addEventListener('change', () => this.checkDuplicates());
    $('wg-desk-cancel').addEventListener('click', () => this.close());
    this.el.querySelector('form').addEventListener('submit', (event) => { event.preventDefault(); this.submit(); });
    this.map.on('click', this.pickOnMap);
    this.map.getContainer().classList.add('wg-picking');
  }

  close() {
    this.el.hidden = true;
    this.el.innerHTML = '';
    this.map.off('click', this.pickOnMap);
    this.map.getContainer().classList.remove('wg-picking');
    if (this.marker) this.marker.remove();
    this.marker = null;
    this.point = null;
  }

  fillMajors(select) {
    const groups = this.tree.kinds.map((kind) => `<optgroup label="${escapeHtml(kind.name)}">${kind.majors
      .map((major) => `<option value="${major.code}">${escapeHtml(major.name)}</option>`).join('')}</optgroup>`);
    select.innerHTML = `<option value="">${t('desk.pick_major')}</option>${groups.join('')}`;
  }

  fillMinors() {
    const code = this.el.querySelector('#wg-desk-major').value;
    const major = this.tree.kinds.flatMap((kind) => kind.majors).find((m) => m.code === code);
    const select = this.el.querySelector('#wg-desk-minor');
    select.innerHTML = `<option value="">${t('desk.pick_minor')}</option>${(major?.minors ?? [])
      .map((minor) => `<option value="${minor.code}">${escapeHtml(minor.name)}</option>`).join('')}`;
    select.disabled = !major;
    this.checkDuplicates();
  }

  setPoint(lon, lat) {
    this.point = { lon, lat };
    if (!this.marker) this.marker = L.marker([lat, lon], { title: t('desk.where') }).addTo(this.map);
    else this.marker.setLatLng([lat, lon]);
    this.marker.getElement()?.classList.add('wg-desk-marker');
    const label = this.el.querySelector('#wg-desk-point');
    label.textContent = t('desk.picked', { lon: lon.toFixed(6), lat: lat.toFixed(6) });
    label.dataset.lon = String(lon);
    label.dataset.lat = String(lat);
    setTimeout(() => this.map.closePopup(), 0); // a click picks a point here, it does not ask about the grid
    this.checkDuplicates();
  }

  async checkDuplicates() {
    const box = this.el.querySelector('#wg-desk-duplicates');
    const category = this.el.querySelector('#wg-desk-minor')?.value;
    if (!box || !category || !this.point) { if (box) box.innerHTML = ''; return; }
    const page = await getJson('/hotline/duplicates', { category, ...this.point });
    if (this.el.querySelector('#wg-desk-minor')?.value !== category) return; // changed meanwhile
    box.dataset.count = String(page.items.length);
    box.innerHTML = page.items.length
      ? `<b>${t('desk.duplicates', { n: page.items.length })}</b><ul>${page.items.map((c) => `<li data-case-id="${c.id}">#${c.id}
        ${t(`state.${c.state}`)} · ${Math.round(c.distance_m)} m · ${formatTime(c.created_at)}
        <span class="muted">${escapeHtml(c.description)}</span></li>`).join('')}</ul>`
      : `<span class="muted">${t('desk.no_duplicates')}</span>`;
  }

  body() {
    const value = (id) => this.el.querySelector(`#${id}`).value.trim();
    return {
      category_code: value('wg-desk-minor'), ...this.point, description: value('wg-desk-description'),
      caller_name: value('wg-desk-name'), caller_phone: value('wg-desk-phone'),
    };
  }

  async submit() {
    const error = this.el.querySelector('#wg-desk-error');
    const body = this.body();
    if (!this.point) { error.textContent = t('desk.need_point'); return; }
    if (!body.category_code) { error.textContent = t('desk.need_minor'); return; }
    try {
      const created = await postJson('/hotline/cases', body, { 'Idempotency-Key': this.key });
      this.close();
      this.onCreated(created);
    } catch (failure) {
      error.textContent = failure.message;
    }
  }
}
