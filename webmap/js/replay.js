// Planner: workload and replay. Replays a period's cases on plan B next to the district's active
// plan (server side, GET /plans/{id}/replay), shows the figures and every worker side by side,
// colours both maps by grid workload, and exports the full tables as CSV.
import { apiUrl, authHeaders, getJson } from './api.js';
import { dayOf, formatTime } from './clock.js';
import { addTexts, escapeHtml, locale, t } from './i18n.js';

// workload relative to the plan's mean: light = less work, dark = more
export const WORKLOAD_RAMP = [[0.8, '#ffffcc'], [0.95, '#c2e699'], [1.05, '#78c679'], [1.25, '#31a354'], [Infinity, '#006837']];
const ROWS_SHOWN = 40;

addTexts({
  zh: {
    'replay.title': '工作量与案件回放', 'replay.since': '起', 'replay.until': '止', 'replay.run': '回放方案 B',
    'replay.csv': '导出 CSV', 'replay.running': '正在回放（一年的案件约需十几秒）…',
    'replay.done': '回放完成：{cases} 件案件（方案 B 用时 {s} 秒）', 'replay.only': '仅规划人员和管理员可回放',
    'replay.colour': '着色', 'replay.by_deviation': '户数偏差', 'replay.by_workload': '工作量（相对平均）',
    'replay.active': '现行方案', 'replay.plan': '方案 B', 'replay.worker': '网格员', 'replay.grid': '网格',
    'replay.cases': '案件', 'replay.workload': '工作量(时)', 'replay.eta90': 'P90 到达(分)', 'replay.on_time': '按期',
    'replay.vacant': '（无人）', 'replay.legend': '工作量 / 平均',
    'replay.k.grids': '网格数', 'replay.k.vacant_grids': '无网格员的网格', 'replay.k.cases': '案件数',
    'replay.k.cases_in_no_grid': '不在任何网格的案件', 'replay.k.workload_max_over_mean': '工作量 最大/平均',
    'replay.k.workload_cv': '工作量 变异系数', 'replay.k.grids_busy': '工作量超过平均 {x} 倍的网格', 'replay.k.household_dev_max': '户数 最大偏离平均',
    'replay.k.eta_p50_s': '到达时间 P50 (秒)', 'replay.k.eta_p90_s': '到达时间 P90 (秒)',
    'replay.k.on_time_share': '按期处置率', 'replay.note': '案件为模拟数据时结果亦为模拟（见说明）',
    'replay.period': '回放时段：{since} 至 {until}（不含）',
  },
  en: {
    'replay.title': 'Workload and case replay', 'replay.since': 'From', 'replay.until': 'Until', 'replay.run': 'Replay plan B',
    'replay.csv': 'Export CSV', 'replay.running': 'Replaying (a year of cases takes some seconds)…',
    'replay.done': 'Replayed {cases} cases (plan B in {s} s)', 'replay.only': 'Only planners and admins can replay',
    'replay.colour': 'Colour', 'replay.by_deviation': 'Household deviation', 'replay.by_workload': 'Workload (relative to mean)',
    'replay.active': 'Active plan', 'replay.plan': 'Plan B', 'replay.worker': 'Worker', 'replay.grid': 'Grid',
    'replay.cases': 'Cases', 'replay.workload': 'Workload (h)', 'replay.eta90': 'ETA p90 (min)', 'replay.on_time': 'On time',
    'replay.vacant': '(vacant)', 'replay.legend': 'Workload / mean',
    'replay.k.grids': 'Grids', 'replay.k.vacant_grids': 'Grids without a worker', 'replay.k.cases': 'Cases',
    'replay.k.cases_in_no_grid': 'Cases in no grid', 'replay.k.workload_max_over_mean': 'Workload max/mean',
    'replay.k.workload_cv': 'Workload coefficient of variation', 'replay.k.grids_busy': 'Grids above {x} × the mean workload', 'replay.k.household_dev_max': 'Households max off mean',
    'replay.k.eta_p50_s': 'ETA p50 (s)', 'replay.k.eta_p90_s': 'ETA p90 (s)',
    'replay.k.on_time_share': 'Share on time', 'replay.note': 'Synthetic cases give synthetic results (see README)',
    'replay.period': 'Period replayed: {since} to {until} (exclusive)',
  },
});

const SUMMARY_KEYS = ['grids', 'vacant_grids', 'cases', 'cases_in_no_grid', 'workload_max_over_mean', 'workload_cv',
  'grids_busy', 'household_dev_max', 'eta_p50_s', 'eta_p90_s', 'on_time_share'];

export function workloadColour(ratio) {
  return WORKLOAD_RAMP.find(([upper]) => ratio < upper)[1];
}

const show = (value, digits = 3) => (value === null || value === undefined ? '—'
  : typeof value === 'number' ? value.toLocaleString(locale(), { maximumFractionDigits: digits }) : escapeHtml(value));
const share = (value) => (value === null || value === undefined ? '—' : `${(value * 100).toFixed(1)}%`);
const minutes = (seconds) => (seconds === null || seconds === undefined ? '—' : (seconds / 60).toFixed(1));

function summaryTable(replay) {
  const active = replay.active?.summary ?? {};
  const plan = replay.plan.summary;
  const rows = SUMMARY_KEYS.map((key) => {
    const format = key === 'on_time_share' || key === 'household_dev_max' ? share : show;
    // the busy multiple is the server's (workload weights file), never spelled here
    return `<tr><td>${t(`replay.k.${key}`, { x: show(plan.busy_over_mean) })}</td><td>${format(active[key])}</td><td>${format(plan[key])}</td></tr>`;
  });
  return `<table class="wg-table" id="wg-replay-summary"><thead><tr><th></th><th>${t('replay.active')}</th>
    <th>${t('replay.plan')}</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

// every worker of either plan, most work under plan B first; each cell "active plan → plan B"
function workerTable(replay) {
  const before = new Map((replay.active?.workers ?? []).map((w) => [w.worker_id, w]));
  const after = new Map(replay.plan.workers.map((w) => [w.worker_id, w]));
  const ids = [...new Set([...before.keys(), ...after.keys()])];
  ids.sort((x, y) => (after.get(y)?.workload_hours ?? 0) - (after.get(x)?.workload_hours ?? 0));
  const pair = (a, b, format) => `<td>${a ? format(a) : '—'} → ${b ? format(b) : '—'}</td>`;
  const rows = ids.slice(0, ROWS_SHOWN).map((id) => {
    const [a, b] = [before.get(id), after.get(id)];
    return `<tr><td>${escapeHtml((b ?? a).worker_name)}</td>${pair(a, b, (r) => escapeHtml(r.code.slice(-6)))}
      ${pair(a, b, (r) => r.cases)}${pair(a, b, (r) => show(r.workload_hours, 0))}
      ${pair(a, b, (r) => minutes(r.eta_p90_s))}${pair(a, b, (r) => share(r.on_time_share))}</tr>`;
  });
  const columns = ['replay.worker', 'replay.grid', 'replay.cases', 'replay.workload', 'replay.eta90', 'replay.on_time']
    .map((k) => `<th>${t(k)}</th>`).join('');
  return `<table class="wg-table" id="wg-replay-workers"><caption>${t('replay.active')} → ${t('replay.plan')}</caption>
    <thead><tr>${columns}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

// grid code -> workload relative to the plan's mean, for the choropleth
export function workloadRatios(replayOfPlan) {
  const loads = replayOfPlan.grids.map((g) => g.workload_hours);
  const mean = loads.reduce((a, b) => a + b, 0) / Math.max(loads.length, 1) || 1;
  return new Map(replayOfPlan.grids.map((g) => [g.code, { ...g, ratio: g.workload_hours / mean }]));
}

export async function runReplay(planId, since, until) {
  return getJson(`/plans/${planId}/replay`, { since, until });
}

// the period the server replayed (its default when the inputs were empty), in the district's zone
function periodLine(replay) {
  const { since, until } = replay.plan;
  return `<div class="muted" id="wg-replay-period">${t('replay.period', { since: formatTime(since), until: formatTime(until) })}</div>`;
}

// the replayed period as the date inputs take it (calendar days in the district's zone)
export function replayDays(replay) {
  return { since: dayOf(replay.plan.since), until: dayOf(replay.plan.until) };
}

export function renderReplay(replay, element) {
  element.innerHTML = `${periodLine(replay)}${summaryTable(replay)}<div class="muted">${t('replay.note')}</div>${workerTable(replay)}`;
}

// the CSV needs the bearer token, so it is fetched and handed to the browser as a file
export async function downloadCsv(planId, since, until) {
  const response = await fetch(apiUrl(`/plans/${planId}/replay`, { since, until, format: 'csv' }), { headers: authHeaders() });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = `replay-plan-${planId}.csv`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
