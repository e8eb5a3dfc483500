// Heatmap of incidents over a chosen period: a canvas over the map, each case a blurred spot,
// the summed intensity coloured from transparent blue to red.
import * as L from '../vendor/leaflet-1.9.4/leaflet-src.esm.js';
import { getJson } from './api.js';
import { narrowing } from './me.js';

const RADIUS_PX = 18;
const PAGES = 10;

function palette() {
  const canvas = document.createElement('canvas');
  canvas.width = 256;
  canvas.height = 1;
  const ctx = canvas.getContext('2d');
  const gradient = ctx.createLinearGradient(0, 0, 256, 0);
  [[0.2, 'blue'], [0.45, 'cyan'], [0.65, 'lime'], [0.85, 'yellow'], [1, 'red']].forEach(([at, colour]) => gradient.addColorStop(at, colour));
  ctx.fillStyle = gradient;
  ctx.fillRect(0, 0, 256, 1);
  return ctx.getImageData(0, 0, 256, 1).data;
}

export const HeatLayer = L.Layer.extend({
  initialize(points = []) { this.points = points; },

  onAdd(map) {
    this.canvas = L.DomUtil.create('canvas', 'wg-heat leaflet-zoom-hide');
    this.canvas.style.pointerEvents = 'none';
    map.getPanes().overlayPane.appendChild(this.canvas);
    map.on('moveend zoomend resize', this.redraw, this);
    this.redraw();
  },

  onRemove(map) {
    this.canvas.remove();
    map.off('moveend zoomend resize', this.redraw, this);
  },

  setPoints(points) {
    this.points = points;
    if (this._map) this.redraw();
  },

  redraw() {
    const map = this._map;
    const size = map.getSize();
    L.DomUtil.setPosition(this.canvas, map.containerPointToLayerPoint([0, 0]));
    this.canvas.width = size.x;
    this.canvas.height = size.y;
    const ctx = this.canvas.getContext('2d');
    this.points.forEach(([lat, lon]) => {
      const p = map.latLngToContainerPoint([lat, lon]);
      const spot = ctx.createRadialGradient(p.x, p.y, 0, p.x, p.y, RADIUS_PX);
      spot.addColorStop(0, 'rgba(0,0,0,0.25)');
      spot.addColorStop(1, 'rgba(0,0,0,0)');
      ctx.fillStyle = spot;
      ctx.fillRect(p.x - RADIUS_PX, p.y - RADIUS_PX, 2 * RADIUS_PX, 2 * RADIUS_PX);
    });
    if (!this.points.length || !size.x || !size.y) return;
    const image = ctx.getImageData(0, 0, size.x, size.y);
    const colours = palette();
    for (let i = 3; i < image.data.length; i += 4) {
      const alpha = image.data[i];
      if (!alpha) continue;
      const at = Math.min(alpha * 2, 255) * 4;
      image.data[i - 3] = colours[at];
      image.data[i - 2] = colours[at + 1];
      image.data[i - 1] = colours[at + 2];
      image.data[i] = Math.min(alpha * 3, 220);
    }
    ctx.putImageData(image, 0, 0);
  },
});

// Positions of the cases reported in the last `days` days (newest first, at most PAGES pages).
export async function casesSince(days, scope, me) {
  const since = Date.now() - days * 86400000;
  const points = [];
  let before;
  for (let page = 0; page < PAGES; page += 1) {
    const result = await getJson('/cases', { limit: 500, before_id: before, scope: narrowing(me, scope) });
    const recent = result.items.filter((c) => new Date(c.created_at).getTime() >= since);
    points.push(...recent.map((c) => [c.lat, c.lon]));
    if (!result.next_before_id || recent.length < result.items.length) break;
    before = result.next_before_id;
  }
  return points;
}
