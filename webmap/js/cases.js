// The command centre's case panels: counters, filtered list, detail with timeline and dispatch
// explanation, role-allowed actions, and the incidents layer coloured by state (overdue ringed red).
import * as L from '../vendor/leaflet-1.9.4/leaflet-src.esm.js';
import { authedFetch, getJson, postJson } from './api.js';
import { dayOf, formatTime } from './clock.js';
import { escapeHtml, t } from './i18n.js';
import { narrowing } from './me.js';
import { beforeAfterHtml, eventPhotosHtml, loadPhotos } from './photos.js';
import './texts-command.js';

export const STATE_COLOURS = {
  reported: '#e6550d', accepted: '#fd8d3c', registered: '#fdae6b', dispatched: '#3182bd',
  in_progress: '#6baed6', disposed: '#31a354', verified: '#74c476', closed: '#969696',
  returned: '#756bb1', suspended: '#636363', void: '#bdbdbd',
};
const CLOSED = new Set(['closed', 'void']);
const HANDLING = new Set(['dispatched', 'in_progress']);
const PAGE = 300;
// actions with their own endpoint; the rest go through /cases/{id}/actions/{action}
const ACTION_PATHS = { dispatch: 'dispatch', supervise: 'supervise' };
const PHOTO_ACTIONS = new Set(['dispose', 'self_dispose']);


function markerStyle(item) {
  return {
    radius: 7, fillColor: STATE_COLOURS[item.state] ?? '#000', fillOpacity: 0.9,
    color: item.overdue ? '#d00000' : '#ffffff', weight: item.overdue ? 3 : 1.5,
    dashArray: item.supervised ? '3 2' : null,
    className: `wg-incident wg-state-${item.state}${item.overdue ? ' wg-overdue' : ''}`,
  };
}

// A deadline counted past the working calendar's covered years: holidays there are not known yet
function uncertainBadge(c) {
  return c.deadline_uncertain
    ? `<span class="wg-badge amber wg-uncertain" title="${t('case.deadline_uncertain_hint')}">${t('case.deadline_uncertain')}</span>` : '';
}

export class CasePanel {
  constructor({ map, me, elements, canReassign = false, canReadContacts = false }) {
    this.map = map;
    this.me = me;
    this.canReassign = canReassign;
    this.canReadContacts = canReadContacts;
    this.el = elements; // { counters, filters, list, detail }
    this.cases = new Map();
    this.markers = new Map();
    this.layer = L.layerGroup();
    this.scope = '';
    this.selected = null;
    this.renderFilters();
    this.bindKeyboard();
  }

  // The list as a listbox: arrow keys move, Home/End jump, Enter or Space opens the case.
  bindKeyboard() {
    const list = this.el.list;
    list.setAttribute('role', 'listbox');
    list.setAttribute('aria-label', t('cases.title'));
    list.addEventListener('keydown', (event) => {
      const items = [...list.querySelectorAll('li[data-case-id]')];
      if (!items.length) return;
      const at = items.indexOf(document.activeElement);
      const moves = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: items.length - 1 };
      if (event.key in moves) {
        event.preventDefault();
        this.focusItem(items[Math.max(0, Math.min(items.length - 1, moves[event.key]))]);
      } else if ((event.key === 'Enter' || event.key === ' ') && at >= 0) {
        event.preventDefault();
        this.select(Number(items[at].dataset.caseId));
      }
    });
  }

  focusItem(item) {
    this.el.list.querySelectorAll('li[data-case-id]').forEach((li) => { li.tabIndex = -1; });
    item.tabIndex = 0;
    item.focus();
    this.focusedId = Number(item.dataset.caseId);
  }

  // 大类 and 小类 of the category tree in the filter (a prefix such as E02 matches its 小类)
  setCategories(tree) {
    const select = this.el.filters.querySelector('#wg-filter-category');
    const groups = tree.kinds.map((kind) => `<optgroup label="${escapeHtml(kind.name)}">${kind.majors.map((major) => `
      <option value="${major.code}">${escapeHtml(major.name)}</option>${major.minors.map((minor) => `
      <option value="${minor.code}">　${escapeHtml(minor.name)}</option>`).join('')}`).join('')}</optgroup>`);
    select.innerHTML = `<option value="">${t('filter.category')}</option>${groups.join('')}`;
  }

  renderFilters() {
    const states = Object.keys(STATE_COLOURS).map((s) => `<option value="${s}">${t(`state.${s}`)}</option>`).join('');
    this.el.filters.innerHTML = `<select id="wg-filter-state"><option value="">${t('cases.all')}</option>${states}</select>
      <select id="wg-filter-category" aria-label="${t('field.category')}"><option value="">${t('filter.category')}</option></select>
      <label><input type="checkbox" id="wg-filter-overdue"> ${t('cases.overdue_only')}</label>`;
    this.el.filters.addEventListener('change', () => this.load());
  }

  filters() {
    const f = this.el.filters;
    return {
      state: f.querySelector('#wg-filter-state').value,
      category: f.querySelector('#wg-filter-category').value.trim(),
      overdue: f.querySelector('#wg-filter-overdue').checked ? 'true' : '',
      scope: narrowing(this.me, this.scope),
      limit: PAGE,
    };
  }

  setScope(code) {
    this.scope = code;
    return this.load();
  }

  async load() {
    const page = await getJson('/cases', this.filters());
    this.cases.clear();
    this.layer.clearLayers();
    this.markers.clear();
    page.items.forEach((item) => this.upsert(item, false));
    await this.refreshCounters(false);
    this.render();
  }

  // Exact counts from the server (the loaded page holds only the newest cases); debounced on live events.
  async refreshCounters(render = true) {
    try {
      this.counts = await getJson('/cases/counters', { area: narrowing(this.me, this.scope) });
    } catch (error) {
      this.counts = null; // fall back to counting the loaded page
    }
    if (render) this.render();
  }

  scheduleCounters() {
    clearTimeout(this.countersTimer);
    this.countersTimer = setTimeout(() => this.refreshCounters(), 500);
  }

  matches(item) {
    const f = this.filters();
    if (f.state && item.state !== f.state) return false;
    if (f.category && !item.category_code.startsWith(f.category)) return false;
    if (f.overdue && !item.overdue) return false;
    return !f.scope || item.grid_code.startsWith(f.scope);
  }

  upsert(item, render = true) {
    if (!this.matches(item)) {
      this.remove(item.id);
    } else {
      this.cases.set(item.id, item);
      let marker = this.markers.get(item.id);
      if (!marker) {
        marker = L.circleMarker([item.lat, item.lon], markerStyle(item)).on('click', () => this.select(item.id));
        this.markers.set(item.id, marker.addTo(this.layer));
      } else {
        marker.setLatLng([item.lat, item.lon]);
        marker.setStyle(markerStyle(item));
        const path = marker.getElement();
        if (path) path.setAttribute('class', `leaflet-interactive ${markerStyle(item).className}`);
      }
      marker.bindTooltip(`#${item.id} ${escapeHtml(item.category_name)} · ${t(`state.${item.state}`)}`);
    }
    if (render) this.render();
  }

  remove(id) {
    this.cases.delete(id);
    const marker = this.markers.get(id);
    if (marker) this.layer.removeLayer(marker);
    this.markers.delete(id);
  }

  render() {
    const items = [...this.cases.values()].sort((a, b) => b.id - a.id);
    const open = this.counts ? this.counts.open : items.filter((c) => !CLOSED.has(c.state)).length;
    const overdue = this.counts ? this.counts.overdue : items.filter((c) => c.overdue && !CLOSED.has(c.state)).length;
    const closedToday = this.counts ? this.counts.closed_today
      : items.filter((c) => c.state === 'closed' && c.closed_at && dayOf(c.closed_at) === dayOf(Date.now())).length;
    this.el.counters.innerHTML = [['count.open', open, 'open'], ['count.overdue', overdue, 'overdue'], ['count.closed_today', closedToday, 'closed-today']]
      .map(([key, value, id]) => `<div class="wg-counter" id="wg-count-${id}"><b>${value}</b><span>${t(key)}</span></div>`).join('');
    const hadFocus = this.el.list.contains(document.activeElement);
    this.el.list.innerHTML = items.length ? items.map((c) => `<li data-case-id="${c.id}" data-state="${c.state}" role="option"
        tabindex="-1" aria-selected="${c.id === this.selected}" class="${c.id === this.selected ? 'selected' : ''}${c.overdue ? ' overdue' : ''}">
        <i data-colour="${STATE_COLOURS[c.state]}"></i><b>#${c.id}</b> ${escapeHtml(c.category_name)}
        <span class="wg-state">${t(`state.${c.state}`)}</span>${c.overdue ? `<span class="wg-badge">${t('case.overdue')}</span>` : ''}
        ${c.supervised ? `<span class="wg-badge blue">${t('case.supervised')}</span>` : ''}${uncertainBadge(c)}</li>`).join('')
      : `<li class="muted">${t('cases.none')}</li>`;
    this.el.list.querySelectorAll('li[data-case-id]').forEach((li) => li.addEventListener('click', () => this.select(Number(li.dataset.caseId))));
    this.el.list.querySelectorAll('i[data-colour]').forEach((dot) => { dot.style.background = dot.dataset.colour; });
    this.restoreFocus(hadFocus, items);
  }

  // one item of the list is reachable by Tab; a live re-render keeps the keyboard where it was
  restoreFocus(hadFocus, items) {
    const wanted = this.focusedId ?? this.selected ?? items[0]?.id;
    const item = this.el.list.querySelector(`li[data-case-id="${wanted}"]`) ?? this.el.list.querySelector('li[data-case-id]');
    if (!item) return;
    item.tabIndex = 0;
    if (hadFocus) item.focus();
  }

  async select(id) {
    this.selected = id;
    this.render();
    const detail = await getJson(`/cases/${id}`);
    if (this.selected !== id) return;
    this.upsert(detail);
    this.renderDetail(detail);
    const marker = this.markers.get(id);
    if (marker) this.map.panTo(marker.getLatLng());
  }

  async onEvent(event) {
    if (event.kind === 'reset') { await this.load(); return; }
    if (event.kind !== 'case' || !event.case_id) return;
    const detail = await getJson(`/cases/${event.case_id}`);
    this.upsert(detail);
    this.scheduleCounters();
    if (this.selected === detail.id) this.renderDetail(detail);
  }

  renderDetail(c) {
    this.current = c;
    const actions = c.allowed_actions.filter((a) => a !== 'escalate')
      .map((a) => `<button type="button" data-action="${a}">${t(`action.${a}`)}</button>`).join('');
    this.el.detail.innerHTML = `<h3>#${c.id} ${escapeHtml(c.category_name)}
        <span class="wg-state" id="wg-detail-state" data-state="${c.state}">${t(`state.${c.state}`)}</span></h3>
      <div class="muted">${escapeHtml(c.description)}</div>
      ${this.whereWhoHtml(c)}
      <div class="wg-actions">${actions}<input id="wg-action-note" placeholder="${t('case.note')}">${this.photoInputHtml(c)}</div>
      <div class="wg-error" id="wg-action-error" role="alert"></div>
      ${beforeAfterHtml(c)}
      ${this.explanationHtml(c.dispatch_explanation, this.canReassign && HANDLING.has(c.state))}
      <h4>${t('case.timeline')}</h4>
      <ol class="wg-timeline">${c.events.map((e) => `<li><b>${t(`action.${e.action}`)}</b> ${formatTime(e.at)} · ${escapeHtml(e.actor_name ?? e.actor)}
        ${e.from_state ? `${t(`state.${e.from_state}`)} → ` : ''}${t(`state.${e.to_state}`)}
        ${e.note ? `<div class="muted">${escapeHtml(e.note)}</div>` : ''}${eventPhotosHtml(e)}</li>`).join('')}</ol>`;
    loadPhotos(this.el.detail);
    this.el.detail.querySelector('#wg-show-caller')?.addEventListener('click', () => this.showCaller(c.id));
    this.el.detail.querySelectorAll('button[data-action]').forEach((button) => {
      button.addEventListener('click', () => this.act(c.id, button.dataset.action));
    });
    this.el.detail.querySelectorAll('button[data-reassign]').forEach((button) => {
      button.addEventListener('click', () => this.reassign(c.id, Number(button.dataset.reassign)));
    });
  }

  explanationHtml(explanation, reassignable) {
    if (!explanation || !explanation.chosen) return '';
    const minutes = (s) => (s === null || s === undefined ? '—' : t('case.minutes', { n: (s / 60).toFixed(1) }));
    const rows = explanation.candidates.map((cand) => `<tr class="${cand.member_id === explanation.chosen.member_id ? 'chosen' : ''}">
        <td>${escapeHtml(cand.name)}</td><td>${t(`tier.${cand.tier}`)}</td><td>${minutes(cand.travel_time_s)}</td>
        <td>${Math.round(cand.straight_line_m)} m</td>
        <td>${reassignable && cand.member_id !== explanation.chosen.member_id
    ? `<button type="button" data-reassign="${cand.member_id}">${t('action.reassign')}</button>` : ''}</td></tr>`).join('');
    const counterfactual = explanation.straight_line_differs
      ? t('case.straight_differs', { id: explanation.straight_line_choice }) : t('case.straight_same');
    return `<h4>${t('case.explanation')}</h4>
      <div>${t('case.chosen')} <b>${escapeHtml(explanation.chosen.name)}</b> · ${t('case.eta')} ${minutes(explanation.chosen.travel_time_s)}
        · ${t('case.candidates', { n: explanation.candidate_count })}</div>
      <table class="wg-table"><tbody>${rows}</tbody></table><div class="muted">${escapeHtml(counterfactual)}</div>`;
  }

  // names instead of ids: area, handler (with role and home grid), source, caller on request
  whereWhoHtml(c) {
    const names = c.area_names ?? {};
    // a city scope spans districts: name the case's district too
    const district = (this.me?.districts?.length ?? 0) > 1 ? names.district : null;
    const area = [district, names.street, names.community, names.grid ?? c.grid_code].filter(Boolean).map(escapeHtml).join(' / ');
    const member = c.assigned_member;
    const handler = member
      ? `<b id="wg-detail-member">${escapeHtml(member.name)}</b> (${t(`team.${member.role}`)}${member.home_grid_name ? ` · ${escapeHtml(member.home_grid_name)}` : ''})`
      : '—';
    const caller = c.source === 'hotline' && this.canReadContacts
      ? `<div>${t('case.caller')} <span id="wg-caller"><button type="button" id="wg-show-caller">${t('case.show_caller')}</button></span></div>` : '';
    return `<div>${t('case.grid')} ${area}</div>
      <div>${t('case.assigned')} ${handler} ${c.overdue ? `<span class="wg-badge">${t('case.overdue')}</span>` : ''}${uncertainBadge(c)}</div>
      <div class="muted">${t('case.source')} ${t(`source.${c.source}`)} · ${formatTime(c.created_at)}</div>${caller}`;
  }

  photoInputHtml(c) {
    if (!c.allowed_actions.some((a) => PHOTO_ACTIONS.has(a))) return '';
    const note = c.photo_on_dispose ? `<span class="wg-required" id="wg-photo-required">${t('case.photo_required')}</span>` : '';
    return `<label class="wg-photo-input">${t('case.photo')} <input type="file" id="wg-action-photo" accept="image/jpeg,image/png,image/webp"></label>${note}`;
  }

  // the chosen photo uploaded (POST /media); its ref goes with the action
  async uploadPhoto() {
    const file = this.el.detail.querySelector('#wg-action-photo')?.files?.[0];
    if (!file) return [];
    const form = new FormData();
    form.append('file', file);
    const response = await authedFetch('/media', { method: 'POST', body: form });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.detail ?? `HTTP ${response.status}`);
    return [body.ref];
  }

  async showCaller(id) {
    const slot = this.el.detail.querySelector('#wg-caller');
    try {
      const contact = await getJson(`/cases/${id}/contact`);
      slot.textContent = [contact.name, contact.phone].filter(Boolean).join(' · ');
    } catch (error) {
      slot.textContent = error.message;
    }
  }

  async reassign(id, memberId) {
    const note = this.el.detail.querySelector('#wg-action-note')?.value ?? '';
    try {
      await postJson(`/cases/${id}/reassign`, { member_id: memberId, note });
      await this.select(id);
    } catch (error) {
      this.el.detail.querySelector('#wg-action-error').textContent = error.message;
    }
  }

  async act(id, action) {
    const note = this.el.detail.querySelector('#wg-action-note')?.value ?? '';
    const path = ACTION_PATHS[action] ? `/cases/${id}/${ACTION_PATHS[action]}` : `/cases/${id}/actions/${action}`;
    try {
      const media = PHOTO_ACTIONS.has(action) ? await this.uploadPhoto() : [];
      if (PHOTO_ACTIONS.has(action) && this.current?.photo_on_dispose && !media.length) {
        // the API would refuse it too (422, rule photo_on_dispose): say so before sending
        this.el.detail.querySelector('#wg-action-error').textContent = `${t('case.photo_required')} (photo_on_dispose)`;
        return;
      }
      await postJson(path, media.length ? { note, media } : { note });
      await this.select(id);
    } catch (error) {
      this.el.detail.querySelector('#wg-action-error').textContent = error.message;
    }
  }
}
