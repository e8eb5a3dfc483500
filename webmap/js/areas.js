// Street, community and grid boundary layers with code, name and household-count tooltips.
import * as L from '../vendor/leaflet-1.9.4/leaflet-src.esm.js';
import { getJson } from './api.js';
import { escapeHtml, LAYER_NAMES } from './labels.js';

const STYLES = {
  streets: { color: '#7a1f1f', weight: 3, fill: false },
  communities: { color: '#1f4e7a', weight: 2, fillOpacity: 0, dashArray: '6 4' },
  grids: { color: '#4a7a1f', weight: 1, fillOpacity: 0.35 },
};
// simplification tolerance (metres) per layer: coarse shapes need less detail
const SIMPLIFY_M = { streets: 3, communities: 2, grids: 1 };
// grid fill by households, light to dark
const GRID_RAMP = [[100, '#f7fcf0'], [200, '#ccebc5'], [300, '#a8ddb5'], [400, '#7bccc4'], [Infinity, '#2b8cbe']];

function gridFill(households) {
  return GRID_RAMP.find(([upper]) => households < upper)[1];
}

function tooltip(layerName, properties) {
  return `<div class="wg-tooltip"><b>${escapeHtml(properties.name)}</b><br>`
    + `${LAYER_NAMES[layerName]}代码 ${escapeHtml(properties.code)}<br>`
    + `户数 ${properties.households.toLocaleString('zh-CN')}</div>`;
}

export function makeAreaLayer(layerName, attribution) {
  return L.geoJSON(null, {
    attribution,
    style: (feature) => (layerName === 'grids'
      ? { ...STYLES.grids, fillColor: gridFill(feature.properties.households) }
      : STYLES[layerName]),
    onEachFeature: (feature, layer) => {
      layer.bindTooltip(tooltip(layerName, feature.properties), { sticky: true });
    },
  });
}

export async function loadAreaLayer(layer, layerName) {
  const collection = await getJson(`/layers/${layerName}`, { simplify: SIMPLIFY_M[layerName] });
  layer.clearLayers();
  layer.addData(collection);
  return collection.features.length;
}

export function gridLegend() {
  const legend = L.control({ position: 'bottomright' });
  legend.onAdd = () => {
    const div = L.DomUtil.create('div', 'wg-panel wg-legend');
    let lower = 0;
    const rows = GRID_RAMP.map(([upper, colour]) => {
      const label = upper === Infinity ? `≥ ${lower}` : `${lower}–${upper - 1}`;
      lower = upper;
      return `<div><i style="background:${colour}"></i>${label} 户</div>`;
    });
    div.innerHTML = `<b>网格户数</b>${rows.join('')}`;
    return div;
  };
  return legend;
}
