// The map legend: case states (and the overdue ring), grid household colours, road classes and team
// status, from the same constants the layers draw with.
import * as L from '../vendor/leaflet-1.9.4/leaflet-src.esm.js';
import { STATE_COLOURS } from './cases.js';
import { t } from './i18n.js';
import { GRID_RAMP, ROAD_STYLES } from './layers.js';
import { STATUS_COLOURS } from './members.js';
import './texts-command.js';

function rows(entries, shape) {
  return entries.map(([label, colour]) => `<li><i class="wg-swatch wg-swatch-${shape}" data-colour="${colour}"></i>${label}</li>`).join('');
}

function gridRows() {
  let lower = 0;
  return GRID_RAMP.map(([upper, colour]) => {
    const label = Number.isFinite(upper) ? `${lower}–${upper - 1}` : `≥ ${lower}`;
    lower = upper;
    return [label, colour];
  });
}

function legendHtml() {
  const states = Object.entries(STATE_COLOURS).map(([state, colour]) => [t(`state.${state}`), colour]);
  const roads = Object.entries(ROAD_STYLES).map(([road, [colour]]) => [t(`road.${road}`), colour]);
  roads.push([t('legend.other_roads'), '#adb5bd']);
  const members = Object.entries(STATUS_COLOURS).map(([status, colour]) => [t(`member.${status}`), colour]);
  return `<details id="wg-legend"><summary>${t('legend.title')}</summary>
    <h5>${t('legend.states')}</h5><ul>${rows(states, 'dot')}<li><i class="wg-swatch wg-swatch-ring"></i>${t('legend.overdue')}</li></ul>
    <h5>${t('legend.grids')}</h5><ul>${rows(gridRows(), 'box')}</ul>
    <h5>${t('legend.roads')}</h5><ul>${rows(roads, 'line')}</ul>
    <h5>${t('legend.members')}</h5><ul>${rows(members, 'dot')}</ul></details>`;
}

export function addLegend(map) {
  const control = L.control({ position: 'bottomright' });
  control.onAdd = () => {
    const box = L.DomUtil.create('div', 'wg-legend');
    box.innerHTML = legendHtml();
    box.querySelectorAll('i[data-colour]').forEach((swatch) => { swatch.style.setProperty('--swatch', swatch.dataset.colour); });
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    return box;
  };
  return control.addTo(map);
}
