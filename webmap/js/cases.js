// The command centre's case panels: counters, filtered list, detail with timeline and dispatch
// explanation, role-allowed actions, and the incidents layer coloured by state (overdue ringed red).
import * as L from '../vendor/leaflet-1.9.4/leaflet-src.esm.js';
import { getJson, postJson } from './api.js';
import { escapeHtml, locale, t } from './i18n.js';
import { narrowing } from './me.js';

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

const time = (value) => (value ? new Date(value).toLocaleString(locale(), { hour12: false }) : '—');
const today = () => new Date().toDateString();

function markerStyle(item) {
  return {
    radius: 7, fillColor: STATE_COLOURS[item.state] ?? '#000', fillOpacity: 0.9,
    color: item.overdue ? '#d00000' : '#ffffff', weight: item.overdue ? 3 : 1.5,
    dashArray: item.supervised ? '3 2' : null,
    className: `wg-incident wg-state-${item.state}${item.overdue ? ' wg-overdue' : ''}`,
  };
}

export class CasePanel {
  constructor({ map, me, elements, canReassign = false }) {
    this.map = map;
    this.me = me;
    this.canReassign = canReassign;
    this.el = elements; // { counters, filters, list, detail }
    this.cases = new Map();
    this.markers = new Map();
    this.layer = L.layerGroup();
    this.scope = '';
    this.selected = null;
    this.renderFilters();
  }

  renderFilters() {
    const states = Object.keys(STATE_COLOURS).map((s) => `<option value="${s}">${t(`state.${s}`)}</option>`).join('');
    this.el.filters.innerHTML = `<select id="wg-filter-state"><option value="">${t('cases.all')}</option>${states}</select>
      <input id="wg-filter-category" placeholder="${t('field.category')}" size="6">
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
      : items.filter((c) => c.state === 'closed' && c.closed_at && new Date(c.closed_at).toDateString() === today()).length;
    this.el.counters.innerHTML = [['count.open', open, 'open'], ['count.overdue', overdue, 'overdue'], ['count.closed_today', closedToday, 'closed-today']]
      .map(([key, value, id]) => `<div class="wg-counter" id="wg-count-${id}"><b>${value}</b><span>${t(key)}</span></div>`).join('');
    this.el.list.innerHTML = items.length ? items.map((c) => `<li data-case-id="${c.id}" data-state="${c.state}"
        class="${c.id === this.selected ? 'selected' : ''}${c.overdue ? ' overdue' : ''}">
        <i style="background:${STATE_COLOURS[c.state]}"></i><b>#${c.id}</b> ${escapeHtml(c.category_name)}
        <span class="wg-state">${t(`state.${c.state}`)}</span>${c.overdue ? `<span class="wg-badge">${t('case.overdue')}</span>` : ''}
        ${c.supervised ? `<span class="wg-badge blue">${t('case.supervised')}</span>` : ''}</li>`).join('')
      : `<li class="muted">${t('cases.none')}</li>`;
    this.el.list.querySelectorAll('li[data-case-id]').forEach((li) => li.addEventListener('click', () => this.select(Number(li.dataset.caseId))));
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
    const actions = c.allowed_actions.filter((a) => a !== 'escalate')
      .map((a) => `<button type="button" data-action="${a}">${t(`action.${a}`)}</button>`).join('');
    this.el.detail.innerHTML = `<h3>#${c.id} ${escapeHtml(c.category_name)}
        <span class="wg-state" id="wg-detail-state" data-state="${c.state}">${t(`state.${c.state}`)}</span></h3>
      <div class="muted">${escapeHtml(c.description)}</div>
      <div>${t('case.grid')} ${escapeHtml(c.grid_code)} · ${t('case.assigned')} ${c.assigned_member_id ?? '—'}
        ${c.overdue ? `<span class="wg-badge">${t('case.overdue')}</span>` : ''}</div>
      <div class="wg-actions">${actions}<input id="wg-action-note" placeholder="${t('case.note')}"></div>
      <div class="wg-error" id="wg-action-error" role="alert"></div>
      ${this.explanationHtml(c.dispatch_explanation, this.canReassign && HANDLING.has(c.state))}
      <h4>${t('case.timeline')}</h4>
      <ol class="wg-timeline">${c.events.map((e) => `<li><b>${t(`action.${e.action}`)}</b> ${time(e.at)} · ${escapeHtml(e.actor)}
        ${e.from_state ? `${t(`state.${e.from_state}`)} → ` : ''}${t(`state.${e.to_state}`)}
        ${e.note ? `<div class="muted">${escapeHtml(e.note)}</div>` : ''}</li>`).join('')}</ol>`;
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
      await postJson(path, { note });
      await this.select(id);
    } catch (error) {
      this.el.detail.querySelector('#wg-action-error').textContent = error.message;
    }
  }
}
