// Basemap layers from /config.json and the coordinate readout. Tianditu (CGCS2000 ≈ WGS-84) tiles are
// used as they are; GCJ-02 tiles (Amap) are moved by the local GCJ-02 offset, tile by tile, so they
// line up with our WGS-84 overlays (vector tiles, markers, clicks and exports all stay WGS-84).
import * as L from '../vendor/leaflet-1.9.4/leaflet-src.esm.js';
import { gcj02ToWgs84, wgs84ToGcj02 } from './datums.js';
import { t } from './i18n.js';
import './texts-command.js';

// Pixel offset (GCJ-02 position minus WGS-84 position) at a WGS-84 pixel of zoom z.
function gcjOffset(map, pixel, zoom) {
  const wgs = map.unproject(pixel, zoom);
  const [lon, lat] = wgs84ToGcj02(wgs.lng, wgs.lat);
  return map.project(L.latLng(lat, lon), zoom).subtract(pixel);
}

const Gcj02TileLayer = L.TileLayer.extend({
  // load the GCJ-02 tiles that cover the view once shifted
  _pxBoundsToTileRange(bounds) {
    const shift = gcjOffset(this._map, bounds.getCenter(), this._tileZoom);
    const moved = L.bounds(bounds.min.add(shift), bounds.max.add(shift));
    return L.TileLayer.prototype._pxBoundsToTileRange.call(this, moved);
  },

  // draw each tile where its centre really is: the WGS-84 point of the GCJ-02 centre
  _getTilePos(coords) {
    const size = this.getTileSize();
    const centre = L.point((coords.x + 0.5) * size.x, (coords.y + 0.5) * size.y);
    const gcj = this._map.unproject(centre, coords.z);
    const [lon, lat] = gcj02ToWgs84(gcj.lng, gcj.lat);
    const truth = this._map.project(L.latLng(lat, lon), coords.z);
    return L.TileLayer.prototype._getTilePos.call(this, coords).subtract(centre.subtract(truth)).round();
  },
});

function tileLayer(source, datum) {
  const options = {
    attribution: source.attribution, maxZoom: 19, maxNativeZoom: source.max_zoom, subdomains: source.subdomains || 'abc',
    className: `wg-basemap${source.labels ? ' wg-basemap-labels' : ''}`, zIndex: source.labels ? 2 : 1,
  };
  return datum === 'gcj02' ? new Gcj02TileLayer(source.url, options) : L.tileLayer(source.url, options);
}

// Adds the configured basemap (if any); returns its datum ('wgs84' or 'gcj02') or null for none.
export function addBasemap(map, config) {
  const basemap = config.basemap;
  if (!basemap || !basemap.layers?.length) return null;
  basemap.layers.forEach((source) => tileLayer(source, basemap.datum).addTo(map));
  map.getContainer().dataset.basemapDatum = basemap.datum;
  return basemap.datum;
}

const fixed = (value) => value.toFixed(6);

// Lon/lat under the cursor in WGS-84, and in GCJ-02 too when the basemap is drawn in it.
export function coordinateReadout(map, datum) {
  const control = L.control({ position: 'bottomleft' });
  control.onAdd = () => {
    const box = L.DomUtil.create('div', 'wg-readout leaflet-bar');
    box.id = 'wg-readout';
    box.textContent = t('readout.hint');
    return box;
  };
  control.addTo(map);
  const box = control.getContainer();
  map.on('mousemove', (event) => {
    const { lat, lng } = event.latlng;
    const parts = [`WGS84 ${fixed(lng)}, ${fixed(lat)}`];
    if (datum === 'gcj02') {
      const [glon, glat] = wgs84ToGcj02(lng, lat);
      parts.push(`GCJ-02 ${fixed(glon)}, ${fixed(glat)}`);
    }
    box.textContent = parts.join(' · ');
    box.dataset.lon = String(lng);
    box.dataset.lat = String(lat);
  });
  return control;
}
