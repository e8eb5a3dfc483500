// The scope selector: the city, districts, streets and communities the user may look at. Levels and
// code lengths come from GET /auth/me, never from this file.
import * as L from '../vendor/leaflet-1.9.4/leaflet-src.esm.js';
import { getJson } from './api.js';
import { escapeHtml, t } from './i18n.js';
import { codeLength } from './me.js';

const WIDE = new Set(['city', 'district']);

function option(code, label, depth) {
  return `<option value="${code}">${'\u3000'.repeat(depth)}${escapeHtml(label)}</option>`;
}

// Codes on the user's branch of the area tree: inside their scope, or containing it.
const related = (scope, code) => code.startsWith(scope) || scope.startsWith(code);

function scopeOptions(me, streets, communities) {
  const { scope_code: scope, scope_level: level } = me;
  const options = level === 'city' ? [option(scope, me.scope_name, 0)] : [];
  const base = level === 'city' ? 1 : 0;
  me.districts.forEach((district) => {
    if (WIDE.has(level)) options.push(option(district.code, level === 'city' ? district.name : t('scope.district'), base));
    streets.features.filter((s) => s.properties.parent_code === district.code && related(scope, s.properties.code)).forEach((street) => {
      const code = street.properties.code;
      if (WIDE.has(level) || level === 'street') options.push(option(code, street.properties.name, base + 1));
      communities.features
        .filter((c) => c.properties.parent_code === code && related(scope, c.properties.code))
        .forEach((c) => options.push(option(c.properties.code, c.properties.name, base + 2)));
    });
  });
  if (level === 'grid') options.push(option(scope, `${t('layer.grids')} ${scope}`, base + 3));
  return options;
}

// Fills the <select>; returns {bounds(code)} for the map.
export async function buildScopeSelector(select, me) {
  const [streets, communities] = await Promise.all([
    getJson('/layers/streets', { simplify: 20 }),
    getJson('/layers/communities', { simplify: 10 }),
  ]);
  const shapes = new Map();
  [...streets.features, ...communities.features].forEach((f) => shapes.set(f.properties.code, f));
  select.innerHTML = scopeOptions(me, streets, communities).join('');
  select.value = me.scope_code;
  const lengths = ['community', 'street'].map((level) => codeLength(me, level));
  return {
    bounds(code) {
      const shape = shapes.get(code) ?? lengths.map((n) => shapes.get(code.slice(0, n))).find(Boolean);
      if (shape) return L.geoJSON(shape).getBounds();
      const inside = streets.features.filter((s) => s.properties.code.startsWith(code));
      return L.geoJSON({ type: 'FeatureCollection', features: inside.length ? inside : streets.features }).getBounds();
    },
  };
}
