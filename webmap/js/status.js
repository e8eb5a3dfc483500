// A small status panel (bottom left) for loading messages, counts and errors.
import * as L from '../vendor/leaflet-1.9.4/leaflet-src.esm.js';
import { escapeHtml } from './labels.js';

export function statusControl() {
  const control = L.control({ position: 'bottomleft' });
  let container;
  control.onAdd = () => {
    container = L.DomUtil.create('div', 'wg-panel wg-status');
    container.setAttribute('role', 'status');
    return container;
  };
  control.show = (lines) => {
    container.innerHTML = lines.filter(Boolean).map((line) => `<div>${escapeHtml(line)}</div>`).join('');
  };
  return control;
}
