// The search box: one request to GET /search (case numbers, roads, buildings, streets, communities,
// grids) as the user types; picking a result (click, or arrows + Enter) hands it to `onPick`.
import * as L from '../vendor/leaflet-1.9.4/leaflet-src.esm.js';
import { getJson } from './api.js';
import { escapeHtml, t } from './i18n.js';
import './texts-command.js';

const DEBOUNCE_MS = 250;
let boxes = 0;

function hitHtml(hit, index) {
  const detail = hit.kind === 'road' ? t('search.edges', { n: hit.detail }) : hit.detail;
  return `<li role="option" tabindex="-1" data-index="${index}" data-kind="${hit.kind}" data-key="${escapeHtml(hit.key)}">
    <span class="wg-kind">${t(`search.kind.${hit.kind}`)}</span> <b>${escapeHtml(hit.label)}</b>
    <span class="muted">${escapeHtml(detail)}</span></li>`;
}

// Move the map to a result: its extent, or the point itself for a case.
export function flyToHit(map, hit) {
  if (hit.bbox) {
    const [west, south, east, north] = hit.bbox;
    map.flyToBounds(L.latLngBounds([south, west], [north, east]), { maxZoom: 17, duration: 0.6, padding: [20, 20] });
  } else {
    map.flyTo([hit.lat, hit.lon], 17, { duration: 0.6 });
  }
}

export function buildSearch(container, onPick) {
  boxes += 1;
  const id = `wg-search-${boxes}`;
  container.innerHTML = `<input type="search" id="${id}" class="wg-search-input" autocomplete="off"
      placeholder="${t('search.placeholder')}" aria-label="${t('search.placeholder')}">
    <ul class="wg-search-results" role="listbox" hidden></ul>`;
  const input = container.querySelector('input');
  const list = container.querySelector('ul');
  let hits = [];
  let timer = null;

  const show = (found, query) => {
    hits = found;
    list.hidden = false;
    list.innerHTML = found.length ? found.map(hitHtml).join('') : `<li class="muted">${escapeHtml(t('search.none', { q: query }))}</li>`;
  };
  const pick = (index) => {
    if (!hits[index]) return;
    list.hidden = true;
    onPick(hits[index]);
  };
  const run = async () => {
    const query = input.value.trim();
    if (!query) { list.hidden = true; hits = []; return; }
    const page = await getJson('/search', { q: query }).catch((error) => ({ items: [], error }));
    if (input.value.trim() === query) show(page.items, query);
  };
  input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(run, DEBOUNCE_MS); });
  input.addEventListener('keydown', async (event) => {
    if (event.key === 'Enter') { event.preventDefault(); clearTimeout(timer); await run(); pick(0); }
    if (event.key === 'ArrowDown' && hits.length) { event.preventDefault(); list.querySelector('li[data-index]')?.focus(); }
    if (event.key === 'Escape') list.hidden = true;
  });
  list.addEventListener('click', (event) => {
    const item = event.target.closest('li[data-index]');
    if (item) pick(Number(item.dataset.index));
  });
  list.addEventListener('keydown', (event) => {
    const item = event.target.closest('li[data-index]');
    if (!item) return;
    const index = Number(item.dataset.index);
    if (event.key === 'Enter') { event.preventDefault(); pick(index); }
    if (event.key === 'ArrowDown') { event.preventDefault(); item.nextElementSibling?.focus(); }
    if (event.key === 'ArrowUp') { event.preventDefault(); (item.previousElementSibling ?? input).focus(); }
  });
  return { input };
}
