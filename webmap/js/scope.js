// The scope selector: district, streets and communities the user's role may look at.
import * as L from '../vendor/leaflet-1.9.4/leaflet-src.esm.js';
import { getJson } from './api.js';
import { escapeHtml, t } from './i18n.js';

function option(code, label, depth) {
  return `<option value="${code}">${'\u3000'.repeat(depth)}${escapeHtml(label)}</option>`;
}

// Fills the <select>; returns {bounds(code), codeOf()} for the map and filters.
export async function buildScopeSelector(select, user) {
  const scope = user.scope_code;
  const [streets, communities] = await Promise.all([
    getJson('/layers/streets', { simplify: 20 }),
    getJson('/layers/communities', { simplify: 10 }),
  ]);
  const shapes = new Map();
  [...streets.features, ...communities.features].forEach((f) => shapes.set(f.properties.code, f));
  const options = [];
  if (scope.length === 6) options.push(option(scope, t('scope.district'), 0));
  streets.features.filter((s) => s.properties.code.startsWith(scope) || scope.startsWith(s.properties.code)).forEach((street) => {
    const code = street.properties.code;
    if (scope.length <= 9) options.push(option(code, street.properties.name, 1));
    communities.features
      .filter((c) => c.properties.parent_code === code && (c.properties.code.startsWith(scope) || scope.startsWith(c.properties.code)))
      .forEach((c) => options.push(option(c.properties.code, c.properties.name, 2)));
  });
  if (scope.length > 12) options.push(option(scope, `${t('layer.grids')} ${scope}`, 3));
  select.innerHTML = options.join('');
  select.value = scope;
  return {
    bounds(code) {
      const shape = shapes.get(code) ?? shapes.get(code.slice(0, 12)) ?? (code.length === 6 ? null : shapes.get(code.slice(0, 9)));
      if (shape) return L.geoJSON(shape).getBounds();
      return L.geoJSON(streets).getBounds();
    },
  };
}
