// Incident density over a chosen period: hexagon bins counted by the server in SQL
// (GET /analytics/heatmap), drawn on a canvas over the map, coloured from pale yellow to dark red.
import * as L from '../vendor/leaflet-1.9.4/leaflet-src.esm.js';
import { getJson } from './api.js';
import { narrowing } from './me.js';

const RAMP = ['#ffffb2', '#fecc5c', '#fd8d3c', '#f03b20', '#bd0026'];

export function binColour(count, max) {
  if (!max) return RAMP[0];
  const at = Math.min(RAMP.length - 1, Math.floor((Math.sqrt(count) / Math.sqrt(max)) * (RAMP.length - 1e-9)));
  return RAMP[at];
}

export const HeatLayer = L.Layer.extend({
  initialize() { this.bins = []; this.max = 0; },

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

  setBins(bins, max) {
    this.bins = bins;
    this.max = max;
    if (this._map) this.redraw();
  },

  redraw() {
    const map = this._map;
    const size = map.getSize();
    L.DomUtil.setPosition(this.canvas, map.containerPointToLayerPoint([0, 0]));
    this.canvas.width = size.x;
    this.canvas.height = size.y;
    const ctx = this.canvas.getContext('2d');
    ctx.globalAlpha = 0.65;
    this.bins.forEach((bin) => {
      ctx.beginPath();
      bin.ring.forEach(([lon, lat], i) => {
        const p = map.latLngToContainerPoint([lat, lon]);
        if (i) ctx.lineTo(p.x, p.y); else ctx.moveTo(p.x, p.y);
      });
      ctx.fillStyle = binColour(bin.count, this.max);
      ctx.fill();
    });
    this.canvas.dataset.bins = String(this.bins.length);
  },
});

// Hexagon bins of the cases reported in the last `days` days in the caller's area (or the selected
// `scope`, sent only when it narrows the user's own).
export function heatBins(days, scope, me) {
  return getJson('/analytics/heatmap', { days, area: narrowing(me, scope) });
}
