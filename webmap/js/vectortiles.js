// Canvas tiles drawn from our /tiles/{layer}/{z}/{x}/{y}.mvt vector tiles, restylable without
// refetching, with feature lookup under a map point (for popups).
import * as L from '../vendor/leaflet-1.9.4/leaflet-src.esm.js';
import { apiUrl, authedFetch } from './api.js';
import { decodeTile } from './mvt.js';

const TILE_SIZE = 256;

function drawFeature(ctx, feature, style, scale) {
  if (feature.type === 'Point') {
    const radius = style.radius ?? 3;
    feature.geometry.forEach(([[x, y]]) => {
      ctx.beginPath();
      ctx.arc(x * scale, y * scale, radius * (window.devicePixelRatio || 1), 0, 2 * Math.PI);
      if (style.fillColor) { ctx.fillStyle = style.fillColor; ctx.globalAlpha = style.fillOpacity ?? 0.8; ctx.fill(); }
      if (style.color) { ctx.globalAlpha = 1; ctx.strokeStyle = style.color; ctx.lineWidth = style.weight ?? 0.5; ctx.stroke(); }
    });
    return;
  }
  ctx.beginPath();
  feature.geometry.forEach((part) => part.forEach(([x, y], i) => (i ? ctx.lineTo(x * scale, y * scale) : ctx.moveTo(x * scale, y * scale))));
  if (feature.type === 'Polygon' && style.fillColor && style.fillOpacity) {
    ctx.globalAlpha = style.fillOpacity;
    ctx.fillStyle = style.fillColor;
    ctx.fill('evenodd');
  }
  if (style.color && style.weight) {
    ctx.globalAlpha = style.opacity ?? 1;
    ctx.strokeStyle = style.color;
    ctx.lineWidth = style.weight * (window.devicePixelRatio || 1);
    ctx.setLineDash(style.dashArray ?? []);
    ctx.stroke();
  }
}

function insideRings(rings, x, y) {
  let inside = false;
  rings.forEach((ring) => {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
      const [xi, yi] = ring[i];
      const [xj, yj] = ring[j];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
  });
  return inside;
}

export const VectorTileLayer = L.GridLayer.extend({
  options: { layer: 'grids', params: {}, style: () => ({}), tileSize: TILE_SIZE, updateWhenZooming: false },

  initialize(options) {
    L.GridLayer.prototype.initialize.call(this, options);
    this._decoded = new Map();
    this.on('tileunload', (event) => this._decoded.delete(this._tileCoordsToKey(event.coords)));
  },

  tileUrl(coords) {
    return apiUrl(`/tiles/${this.options.layer}/${coords.z}/${coords.x}/${coords.y}.mvt`, this.options.params);
  },

  createTile(coords, done) {
    const canvas = L.DomUtil.create('canvas', 'wg-vtile');
    const ratio = window.devicePixelRatio || 1;
    canvas.width = TILE_SIZE * ratio;
    canvas.height = TILE_SIZE * ratio;
    const key = this._tileCoordsToKey(coords);
    authedFetch(this.tileUrl(coords))
      .then((response) => {
        if (!response.ok) throw new Error(`tile ${key}: HTTP ${response.status}`);
        return response.arrayBuffer();
      })
      .then((buffer) => {
        const layer = decodeTile(new Uint8Array(buffer))[this.options.layer] ?? { extent: 4096, features: [] };
        this._decoded.set(key, layer);
        this._draw(canvas, layer, coords.z);
        this.fire('tiledecoded', { coords, features: layer.features.length });
        done(null, canvas);
      })
      .catch((error) => done(error, canvas));
    return canvas;
  },

  _draw(canvas, layer, zoom) {
    const ctx = canvas.getContext('2d');
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const scale = canvas.width / layer.extent;
    layer.features.forEach((feature) => {
      const style = this.options.style(feature.properties, zoom, feature);
      if (style) drawFeature(ctx, feature, style, scale);
    });
    ctx.globalAlpha = 1;
  },

  // Redraw every loaded tile with a new style function (no new requests).
  setStyle(style) {
    this.options.style = style;
    Object.values(this._tiles).forEach(({ el, coords }) => {
      const layer = this._decoded.get(this._tileCoordsToKey(coords));
      if (layer) this._draw(el, layer, coords.z);
    });
  },

  setParams(params) {
    this.options.params = params;
    this.redraw();
  },

  // Properties of the features under a map point (polygons containing it, points near it).
  featuresAt(latlng) {
    if (!this._map || !this._tileZoom) return [];
    const zoom = this._tileZoom;
    const pixel = this._map.project(latlng, zoom);
    const coords = { x: Math.floor(pixel.x / TILE_SIZE), y: Math.floor(pixel.y / TILE_SIZE), z: zoom };
    const layer = this._decoded.get(this._tileCoordsToKey(coords));
    if (!layer) return [];
    const unit = layer.extent / TILE_SIZE;
    const x = (pixel.x - coords.x * TILE_SIZE) * unit;
    const y = (pixel.y - coords.y * TILE_SIZE) * unit;
    return layer.features.filter((feature) => {
      if (feature.type === 'Polygon') return insideRings(feature.geometry, x, y);
      if (feature.type === 'Point') return feature.geometry.some(([[px, py]]) => Math.hypot(px - x, py - y) < 6 * unit);
      return false;
    }).map((feature) => ({ id: feature.id, ...feature.properties }));
  },

  loadedFeatureCount() {
    let count = 0;
    this._decoded.forEach((layer) => { count += layer.features.length; });
    return count;
  },
});

export function vectorTileLayer(options) {
  return new VectorTileLayer(options);
}
