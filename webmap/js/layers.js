// The map and our vector-tile layers (streets, communities, grids, households) with their styles
// and popups; shared by the command centre, the planner view and the field app.
import * as L from '../vendor/leaflet-1.9.4/leaflet-src.esm.js';
import { addBasemap, coordinateReadout } from './basemap.js';
import { escapeHtml, locale, t } from './i18n.js';
import { vectorTileLayer } from './vectortiles.js';

export const WUCHANG_CENTRE = [30.555, 114.33];
export const HOUSEHOLD_MIN_ZOOM = 14;
export const GRID_RAMP = [[100, '#f7fcf0'], [200, '#ccebc5'], [300, '#a8ddb5'], [400, '#7bccc4'], [Infinity, '#2b8cbe']];

export const ROAD_STYLES = {
  motorway: ['#d9480f', 3], trunk: ['#e8590c', 2.6], primary: ['#f08c00', 2.2], secondary: ['#f59f00', 1.6],
};

export const BOUNDARY_STYLES = {
  roads: (p) => {
    const [color, weight] = ROAD_STYLES[p.road_class] ?? ['#adb5bd', 1];
    return { color, weight, opacity: 0.8 };
  },
  streets: () => ({ color: '#7a1f1f', weight: 2.5 }),
  communities: () => ({ color: '#1f4e7a', weight: 1.5, dashArray: [6, 4] }),
  grids: (p) => ({
    color: '#4a7a1f', weight: 0.7, fillOpacity: 0.3,
    fillColor: GRID_RAMP.find(([upper]) => (p.households ?? 0) < upper)[1],
  }),
};

export function householdStyle(p, zoom) {
  if (p.households !== undefined && zoom < 16) {
    return { radius: Math.min(2 + Math.sqrt(p.households) / 2, 12), color: '#3d1a5b', weight: 0.5, fillColor: '#9c6ade', fillOpacity: 0.7 };
  }
  return { radius: 2.5, color: '#5b2a86', weight: 0.5, fillColor: '#9c6ade', fillOpacity: 0.85 };
}

export function createMap(elementId, config, options = {}) {
  const map = L.map(elementId, { center: WUCHANG_CENTRE, zoom: 12, zoomSnap: 0.5, ...options });
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  const datum = addBasemap(map, config);
  if (!datum) map.getContainer().classList.add('no-basemap');
  L.control.scale({ imperial: false }).addTo(map);
  coordinateReadout(map, datum);
  return map;
}

export function boundaryLayer(name, attribution, params = {}) {
  return vectorTileLayer({ layer: name, params, style: BOUNDARY_STYLES[name], attribution, zIndex: { roads: 1, grids: 2, communities: 3, streets: 4 }[name] });
}

export function householdLayer() {
  return vectorTileLayer({ layer: 'households', style: householdStyle, minZoom: HOUSEHOLD_MIN_ZOOM, zIndex: 5 });
}

const number = (value) => Number(value ?? 0).toLocaleString(locale());

export function popupHtml(layerName, p) {
  if (layerName === 'households') {
    if (p.households !== undefined) {
      return `<b>${t('households.building', { id: p.id })}</b><br>${t('households')} ${number(p.households)} · ${t('residents')} ${number(p.residents)}`;
    }
    return `<b>${t('households.one', { id: p.id })}</b><br>${t('residents')} ${number(p.residents)} · ${t('case.grid')} ${escapeHtml(p.grid_code ?? '—')}`;
  }
  const households = p.households !== undefined ? `<br>${t('households')} ${number(p.households)}` : '';
  return `<b>${escapeHtml(p.name)}</b><br>${t(`layer.${layerName}`)}${t('code')} ${escapeHtml(p.code)}${households}`;
}

// On click: a popup for the finest feature under the point among the given visible layers.
export function bindFeaturePopups(map, namedLayers) {
  map.on('click', (event) => {
    for (const [name, layer] of namedLayers) {
      if (!map.hasLayer(layer)) continue;
      const found = layer.featuresAt(event.latlng);
      if (found.length) {
        L.popup().setLatLng(event.latlng).setContent(popupHtml(name, found[0])).openOn(map);
        return;
      }
    }
  });
}
