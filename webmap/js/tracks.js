// Worker tracks: one day of a member's GPS fixes (GET /members/{id}/track) drawn on the map and
// played back with a slider and a play button; times in Beijing time.
import * as L from '../vendor/leaflet-1.9.4/leaflet-src.esm.js';
import { getJson } from './api.js';
import { formatTime, zoneName } from './clock.js';
import { escapeHtml, t } from './i18n.js';
import './texts-command.js';

const STEP_MS = 100;
const PLAY_SECONDS = 15; // a whole day plays in about this long

// Today in the users' zone as YYYY-MM-DD (en-CA formats dates that way).
export function localToday() {
  return new Date().toLocaleDateString('en-CA', { timeZone: zoneName() });
}

function panelHtml(members) {
  const options = [...members].sort((a, b) => a[1].localeCompare(b[1], 'zh'))
    .map(([id, name]) => `<option value="${id}">${escapeHtml(name)}</option>`).join('');
  return `<div class="wg-row"><label for="wg-track-member">${t('track.member')}</label>
      <select id="wg-track-member"><option value="">${t('track.pick')}</option>${options}</select>
      <label for="wg-track-date">${t('track.date')}</label><input type="date" id="wg-track-date" value="${localToday()}">
      <button type="button" id="wg-track-load">${t('track.load')}</button></div>
    <div class="wg-row"><button type="button" id="wg-track-play" disabled>${t('track.play')}</button>
      <input type="range" id="wg-track-slider" min="0" max="0" value="0" disabled aria-label="${t('track.title')}">
      <span id="wg-track-time" class="muted"></span></div><div id="wg-track-status" class="muted"></div>`;
}

export class TrackPlayer {
  constructor({ map, element, members }) {
    this.map = map;
    this.el = element;
    this.members = members; // MemberLayer: names of the area's team
    this.layer = L.layerGroup().addTo(map);
    this.points = [];
    this.timer = null;
  }

  render() {
    this.el.innerHTML = panelHtml(this.members.names);
    const $ = (id) => this.el.querySelector(`#${id}`);
    $('wg-track-load').addEventListener('click', () => this.load());
    $('wg-track-slider').addEventListener('input', (event) => this.show(Number(event.target.value)));
    $('wg-track-play').addEventListener('click', () => (this.timer ? this.pause() : this.play()));
  }

  async load() {
    const $ = (id) => this.el.querySelector(`#${id}`);
    const member = $('wg-track-member').value;
    if (!member) { $('wg-track-status').textContent = t('track.pick'); return; }
    this.pause();
    try {
      const track = await getJson(`/members/${member}/track`, { date: $('wg-track-date').value });
      this.draw(track.points);
      $('wg-track-status').textContent = track.points.length ? t('track.points', { n: track.points.length }) : t('track.none');
    } catch (error) {
      $('wg-track-status').textContent = t('error.load', { reason: error.message });
    }
  }

  draw(points) {
    this.points = points;
    this.layer.clearLayers();
    const slider = this.el.querySelector('#wg-track-slider');
    slider.max = String(Math.max(points.length - 1, 0));
    slider.disabled = points.length < 2;
    this.el.querySelector('#wg-track-play').disabled = points.length < 2;
    if (!points.length) return;
    const line = L.polyline(points.map((p) => [p.lat, p.lon]), { color: '#0b7285', weight: 3, className: 'wg-track' });
    this.layer.addLayer(line);
    this.cursor = L.circleMarker([points[0].lat, points[0].lon], { radius: 7, color: '#fff', weight: 2, fillColor: '#0b7285', fillOpacity: 1, className: 'wg-track-cursor' });
    this.layer.addLayer(this.cursor);
    this.map.fitBounds(line.getBounds(), { maxZoom: 17, padding: [30, 30] });
    this.show(0);
  }

  show(index) {
    const point = this.points[index];
    if (!point) return;
    this.index = index;
    this.cursor.setLatLng([point.lat, point.lon]);
    this.el.querySelector('#wg-track-slider').value = String(index);
    const label = this.el.querySelector('#wg-track-time');
    label.textContent = formatTime(point.t);
    label.dataset.index = String(index);
  }

  play() {
    if (this.index >= this.points.length - 1) this.show(0);
    const step = Math.max(1, Math.round(this.points.length / ((PLAY_SECONDS * 1000) / STEP_MS)));
    this.el.querySelector('#wg-track-play').textContent = t('track.pause');
    this.timer = setInterval(() => {
      const next = Math.min(this.index + step, this.points.length - 1);
      this.show(next);
      if (next >= this.points.length - 1) this.pause();
    }, STEP_MS);
  }

  pause() {
    clearInterval(this.timer);
    this.timer = null;
    const button = this.el.querySelector('#wg-track-play');
    if (button) button.textContent = t('track.play');
  }
}
