// Household points of the logged-in user's scope, fetched for the visible area at high zoom only.
import * as L from '../vendor/leaflet-1.9.4/leaflet-src.esm.js';
import { ApiError, getJson } from './api.js';

const PAGE_LIMIT = 5000;
const MAX_PAGES = 4; // at most 20,000 points in view; beyond that the status line says so
const renderer = L.canvas({ padding: 0.2 });
let latestRequest = 0;

export function makeHouseholdLayer() {
  return L.layerGroup();
}

function bboxOf(map) {
  const b = map.getBounds();
  return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(',');
}

function marker(feature) {
  const [lon, lat] = feature.geometry.coordinates;
  const p = feature.properties;
  return L.circleMarker([lat, lon], {
    renderer, radius: 3, weight: 0.5, color: '#5b2a86', fillColor: '#9c6ade', fillOpacity: 0.8,
  }).bindTooltip(`住户 ${p.id}<br>人数 ${p.residents}<br>网格 ${p.grid_code ?? '—'}`);
}

// Follow the keyset `next` links; stop early if the map moved (a newer request started).
async function fetchInView(map, request) {
  const features = [];
  let page = await getJson('/households', { bbox: bboxOf(map), limit: PAGE_LIMIT });
  for (let pages = 1; ; pages += 1) {
    if (request !== latestRequest) return null;
    features.push(...page.features);
    if (!page.next || pages >= MAX_PAGES) return { features, complete: !page.next };
    const next = new URL(page.next); // same origin as the page, whatever host the API saw
    page = await getJson(next.pathname + next.search);
  }
}

// Returns a short Chinese status line for the status panel ('' when superseded).
export async function refreshHouseholds(map, layer, minZoom) {
  const request = ++latestRequest;
  layer.clearLayers();
  if (!map.hasLayer(layer)) return '';
  if (map.getZoom() < minZoom) return `放大到 ${minZoom} 级以显示住户`;
  try {
    const result = await fetchInView(map, request);
    if (result === null) return null;
    result.features.forEach((feature) => layer.addLayer(marker(feature)));
    const more = result.complete ? '' : `（仅显示前 ${result.features.length} 户，请继续放大）`;
    return `可见住户 ${result.features.length} 户${more}`;
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) return '当前角色无权查看住户';
    throw error;
  }
}
