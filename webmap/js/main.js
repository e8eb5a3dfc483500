// Wuchang grid map: boundary layers for any logged-in user, household points within their scope.
import * as L from '../vendor/leaflet-1.9.4/leaflet-src.esm.js';
import { getJson } from './api.js';
import { gridLegend, loadAreaLayer, makeAreaLayer } from './areas.js';
import { makeHouseholdLayer, refreshHouseholds } from './households.js';
import { LAYER_NAMES } from './labels.js';
import { loginControl } from './login.js';
import { currentUser } from './session.js';
import { statusControl } from './status.js';

const WUCHANG_CENTRE = [30.555, 114.33];
const AREA_LAYERS = ['grids', 'communities', 'streets'];

async function start() {
  const config = await getJson('/config.json');
  const map = L.map('map', { center: WUCHANG_CENTRE, zoom: 13, zoomSnap: 0.5 });
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  const baseLayers = {};
  if (config.basemap_url) {
    baseLayers[LAYER_NAMES.basemap] = L.tileLayer(config.basemap_url, {
      attribution: config.basemap_attribution, maxZoom: 19,
    }).addTo(map);
  } else {
    map.getContainer().classList.add('no-basemap');
  }
  const areaLayers = Object.fromEntries(
    AREA_LAYERS.map((name) => [name, makeAreaLayer(name, config.osm_attribution).addTo(map)]),
  );
  const households = makeHouseholdLayer().addTo(map);
  const overlays = Object.fromEntries(AREA_LAYERS.map((name) => [LAYER_NAMES[name], areaLayers[name]]));
  overlays[LAYER_NAMES.households] = households;
  L.control.layers(baseLayers, overlays, { collapsed: false, position: 'topleft' }).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);
  gridLegend().addTo(map);
  const status = statusControl().addTo(map);
  let areaStatus = '';

  async function showHouseholds() {
    try {
      const line = await refreshHouseholds(map, households, config.household_min_zoom);
      if (line !== null) status.show([areaStatus, line]);
    } catch (error) {
      status.show([areaStatus, `住户加载失败：${error.message}`]);
    }
  }

  async function loadAll() {
    if (!currentUser()) {
      AREA_LAYERS.forEach((name) => areaLayers[name].clearLayers());
      households.clearLayers();
      status.show(['请登录后查看街道、社区和网格']);
      return;
    }
    status.show(['加载中…']);
    try {
      const counts = await Promise.all(AREA_LAYERS.map((name) => loadAreaLayer(areaLayers[name], name)));
      areaStatus = AREA_LAYERS.map((name, i) => `${LAYER_NAMES[name]} ${counts[i]}`).join(' · ');
      const bounds = areaLayers.streets.getBounds();
      if (bounds.isValid()) map.fitBounds(bounds);
      // requests finish in any order: restack so finer layers never hide coarser outlines
      AREA_LAYERS.forEach((name) => areaLayers[name].bringToFront());
      await showHouseholds();
    } catch (error) {
      status.show([`加载失败：${error.message}`]);
      if (!currentUser()) login.refresh();
    }
  }

  const login = loginControl(() => loadAll()).addTo(map);
  map.on('moveend overlayadd', (event) => {
    if (event.type === 'moveend' || event.layer === households) showHouseholds();
  });
  await loadAll();
}

start().catch((error) => {
  document.getElementById('map').textContent = `地图启动失败：${error.message}`;
});
