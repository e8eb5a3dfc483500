// Service worker of the field app (/field): the app shell is served from the cache when the network
// is gone, and the worker's own grid tiles (put into Cache Storage by the page, see
// js/fieldcache.js) too. Network first everywhere, so a connected phone always gets the current
// code and data; API answers (personal data) are never cached here.
const VERSION = 'wangge-field-v3';
const SHELL_CACHE = `${VERSION}-shell`;
const SHELL = [
  '/field', '/config.json', '/field.webmanifest', '/open311/v2/services.json',
  '/static/css/map.css', '/static/css/field.css',
  '/static/vendor/leaflet-1.9.4/leaflet.css', '/static/vendor/leaflet-1.9.4/leaflet-src.esm.js',
  '/static/icons/field-192.png', '/static/icons/field-512.png',
  '/static/js/field.js', '/static/js/api.js', '/static/js/i18n.js', '/static/js/layers.js',
  '/static/js/vectortiles.js', '/static/js/mvt.js', '/static/js/live.js', '/static/js/login.js',
  '/static/js/outbox.js', '/static/js/photostore.js', '/static/js/shell.js', '/static/js/session.js',
  '/static/js/datums.js', '/static/js/navigate.js', '/static/js/doorcode.js', '/static/js/fieldcache.js',
  '/static/js/visits.js', '/static/js/texts-field.js', '/static/js/me.js', '/static/js/basemap.js',
  '/static/js/texts-command.js', '/static/js/secure.js', '/static/js/clock.js',
];
const EMPTY_TILE_HEADERS = { 'Content-Type': 'application/vnd.mapbox-vector-tile', 'X-Wangge-Offline': '1' };

self.addEventListener('install', (event) => {
  // each file on its own: one missing module must not keep the others out of the cache
  event.waitUntil(caches.open(SHELL_CACHE)
    .then((cache) => Promise.all(SHELL.map((path) => cache.add(path).catch(() => null))))
    .then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((key) => key.startsWith('wangge-field-v') && key !== SHELL_CACHE)
      .map((key) => caches.delete(key))))
    .then(() => self.clients.claim()));
});

function isShell(url, request) {
  return request.mode === 'navigate' || url.pathname.startsWith('/static/') || SHELL.includes(url.pathname);
}

// the network's answer (kept for next time), else the cached copy
async function shellFirstNetwork(request) {
  const cache = await caches.open(SHELL_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) cache.put(request, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(request, { ignoreSearch: request.mode === 'navigate', ignoreVary: true });
    if (cached) return cached;
    throw error;
  }
}

// tiles: the network's, else the page's cached copy of the worker's grid, else an empty tile
async function tileFirstNetwork(request) {
  try {
    return await fetch(request);
  } catch {
    const cached = await caches.match(request, { ignoreVary: true });
    return cached ?? new Response(new ArrayBuffer(0), { status: 200, headers: EMPTY_TILE_HEADERS });
  }
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/tiles/')) event.respondWith(tileFirstNetwork(request));
  else if (isShell(url, request)) event.respondWith(shellFirstNetwork(request));
});
