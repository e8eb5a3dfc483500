// Offline support of the field app: the service worker, the assignment list kept per account with
// the time it was cached, and the worker's own grid tiles put into Cache Storage, where the
// service worker (/field-sw.js) finds them when the network is gone. Another account's copies are
// removed when someone else logs in on the same phone.
import { apiUrl, authedFetch, getJson } from './api.js';
import { HOUSEHOLD_MIN_ZOOM } from './layers.js';
import { codeLength, levelOf } from './me.js';

const ASSIGNMENTS_PREFIX = 'wangge.assignments.';
const TILE_CACHE_PREFIX = 'wangge-field-tiles-';
export const TILE_LAYERS = ['grids', 'roads', 'households'];
export const FIELD_ZOOMS = { min: 13, max: 17 };
const MAX_TILES = 400;
const PARALLEL = 4;

export async function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return false;
  try {
    await navigator.serviceWorker.register('/field-sw.js', { scope: '/field' });
    await navigator.serviceWorker.ready;
    return true;
  } catch {
    return false;
  }
}

export function saveAssignments(username, items) {
  localStorage.setItem(ASSIGNMENTS_PREFIX + username, JSON.stringify({ at: new Date().toISOString(), items }));
}

// {at, items} as last cached for this account, or null
export function cachedAssignments(username) {
  try {
    return JSON.parse(localStorage.getItem(ASSIGNMENTS_PREFIX + username) ?? 'null');
  } catch {
    return null;
  }
}

export async function forgetOtherAccounts(username) {
  Object.keys(localStorage).filter((key) => key.startsWith(ASSIGNMENTS_PREFIX) && key !== ASSIGNMENTS_PREFIX + username)
    .forEach((key) => localStorage.removeItem(key));
  if (!('caches' in window)) return;
  const names = await caches.keys();
  await Promise.all(names.filter((name) => name.startsWith(TILE_CACHE_PREFIX) && name !== TILE_CACHE_PREFIX + username)
    .map((name) => caches.delete(name)));
}

function tileX(lon, z) { return Math.floor(((lon + 180) / 360) * 2 ** z); }
function tileY(lat, z) {
  const rad = (lat * Math.PI) / 180;
  return Math.floor(((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * 2 ** z);
}

// tile paths of every layer covering the bbox [west, south, east, north] at the field app's zooms
export function tilePaths(bbox) {
  const paths = [];
  for (let z = FIELD_ZOOMS.min; z <= FIELD_ZOOMS.max; z += 1) {
    for (let x = tileX(bbox[0], z); x <= tileX(bbox[2], z); x += 1) {
      for (let y = tileY(bbox[3], z); y <= tileY(bbox[1], z); y += 1) {
        TILE_LAYERS.filter((layer) => layer !== 'households' || z >= HOUSEHOLD_MIN_ZOOM)
          .forEach((layer) => paths.push(`/tiles/${layer}/${z}/${x}/${y}.mvt`));
      }
    }
  }
  return paths;
}

// every [lon, lat] of a GeoJSON geometry's (nested) coordinates
function positions(coordinates) {
  return typeof coordinates[0] === 'number' ? [coordinates] : coordinates.flatMap(positions);
}

function bboxOf(geometry, pad = 0.1) {
  const pairs = positions(geometry.coordinates);
  const lons = pairs.map((p) => p[0]);
  const lats = pairs.map((p) => p[1]);
  const [w, s, e, n] = [Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)];
  const dx = (e - w) * pad;
  const dy = (n - s) * pad;
  return [w - dx, s - dy, e + dx, n + dy];
}

// the worker's grid outline (the scope of a grid worker's account is their grid's code); levels and
// code lengths come from /auth/me (`me`), never spelled here
export async function gridBounds(me, gridCode) {
  if (levelOf(me, gridCode ?? '') !== 'grid') return null;
  const layer = await getJson('/layers/grids', { community: gridCode.slice(0, codeLength(me, 'community')) });
  const grid = layer.features.find((feature) => feature.properties.code === gridCode);
  return grid ? bboxOf(grid.geometry) : null;
}

async function store(cache, path) {
  const url = apiUrl(path).toString();
  // renewed first when about to expire (a phone that slept), and once more on a 401
  const response = await authedFetch(url);
  if (!response.ok) return false;
  await cache.put(url, response);
  return true;
}

// Put the grid's tiles into this account's tile cache; resolves with how many were stored. The tile
// routes answer for the caller's districts (each district's active plan), as the page draws them.
export async function cacheGridTiles(me) {
  if (!('caches' in window)) return 0;
  const bbox = await gridBounds(me, me.scope_code);
  if (!bbox) return 0;
  const cache = await caches.open(TILE_CACHE_PREFIX + me.username);
  const queue = tilePaths(bbox).slice(0, MAX_TILES);
  let stored = 0;
  const worker = async () => {
    while (queue.length && navigator.onLine) {
      if (await store(cache, queue.shift()).catch(() => false)) stored += 1;
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return stored;
}
