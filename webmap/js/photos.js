// Case photos: fetched with the session's token (fetch → blob → object URL, never a token in an
// <img src>), shown in the timeline, and before/after side by side while a disposal is checked (核查).
import { authedFetch } from './api.js';
import { escapeHtml, t } from './i18n.js';
import './texts-command.js';

const urls = new Map(); // media ref -> object URL (or null when it failed); photos never change
const BEFORE_ACTIONS = new Set(['report']);
const AFTER_ACTIONS = new Set(['dispose', 'self_dispose']);
const CHECKING = new Set(['disposed', 'verified', 'closed']);

export function mediaRefs(events, actions) {
  return events.filter((e) => actions.has(e.action)).flatMap((e) => e.media.filter((ref) => ref.startsWith('media:')));
}

async function objectUrl(ref) {
  if (!urls.has(ref)) {
    const response = await authedFetch(`/media/${encodeURIComponent(ref)}`);
    urls.set(ref, response.ok ? URL.createObjectURL(await response.blob()) : null);
  }
  return urls.get(ref);
}

function figure(ref, caption = '') {
  return `<figure class="wg-photo" data-ref="${escapeHtml(ref)}"><img alt="${escapeHtml(caption || t('case.photo'))}">
    ${caption ? `<figcaption>${escapeHtml(caption)}</figcaption>` : ''}</figure>`;
}

// HTML for an event's photos (filled in by loadPhotos once the page holds it).
export function eventPhotosHtml(event) {
  const refs = event.media.filter((ref) => ref.startsWith('media:'));
  return refs.length ? `<div class="wg-photos">${refs.map((ref) => figure(ref)).join('')}</div>` : '';
}

// Before (reported) and after (disposed) photos next to each other, for verification.
export function beforeAfterHtml(detail) {
  if (!CHECKING.has(detail.state)) return '';
  const before = mediaRefs(detail.events, BEFORE_ACTIONS);
  const after = mediaRefs(detail.events, AFTER_ACTIONS);
  if (!before.length && !after.length) return '';
  const column = (refs, key) => `<div class="wg-ba-col" data-side="${key}"><h5>${t(`case.${key}`)}</h5>
    ${refs.length ? refs.map((ref) => figure(ref)).join('') : '<p class="muted">—</p>'}</div>`;
  return `<h4>${t('case.photos')}</h4><div class="wg-before-after" id="wg-before-after">${column(before, 'before')}${column(after, 'after')}</div>`;
}

// Fetch and show every photo placeholder under `root`.
export async function loadPhotos(root) {
  const figures = [...root.querySelectorAll('figure.wg-photo')];
  await Promise.all(figures.map(async (element) => {
    const url = await objectUrl(element.dataset.ref).catch(() => null);
    const image = element.querySelector('img');
    if (url) {
      image.src = url;
      element.dataset.loaded = 'true';
    } else {
      image.remove();
      element.append(t('case.photo_missing'));
      element.dataset.loaded = 'false';
    }
  }));
}
