"""The plan report's workload section: the district's last year of cases replayed on the plan and
on the active plan, side by side, the busiest grids and the workers whose work changes most, and
a map layer of grid workload relative to the plan's mean."""

from __future__ import annotations

import html
from datetime import datetime, timedelta

import folium
import geopandas as gpd
from sqlalchemy import Connection, text

from gis_api.cases.calendar import default_calendar
from gis_api.cases.kpi import Period
from gis_api.redistrict.report_text import bi
from gis_api.routing.engine import RoadGraph
from gis_api.workload.replay import PlanReplay, ReplayRow, replay_side_by_side

LATEST_SQL = "SELECT max(created_at) FROM incident WHERE left(grid_code, 6) = :d"
ROWS = 15
RAMP = ((0.8, "#ffffcc"), (0.95, "#c2e699"), (1.05, "#78c679"), (1.25, "#31a354"), (float("inf"), "#006837"))
LABELS = {
    "cases": ("案件数", "Cases"),
    "vacant_grids": ("无网格员的网格", "Grids without a worker"),
    "workload_max_over_mean": ("工作量 最大/平均", "Workload max/mean"),
    "workload_cv": ("工作量 变异系数", "Workload coefficient of variation"),
    "grids_busy": ("工作量超过平均 {x} 倍的网格", "Grids above {x} × the mean workload"),
    "household_dev_max": ("户数 最大偏离平均", "Households max off the mean"),
    "eta_p50_s": ("到达时间 P50（秒）", "ETA p50 (s)"),
    "eta_p90_s": ("到达时间 P90（秒）", "ETA p90 (s)"),
    "on_time_share": ("按期处置率", "Share handled on time"),
}


def last_year(connection: Connection, district: str) -> Period | None:
    """The 365 days up to the district's latest case (local midnight after it), or None without cases."""
    latest = connection.execute(text(LATEST_SQL), {"d": district}).scalar()
    if latest is None:
        return None
    zone = default_calendar().zone
    until = datetime.combine(latest.astimezone(zone).date() + timedelta(days=1), datetime.min.time(), zone)
    return Period.of(until - timedelta(days=365), until)


def replay_for_report(
    connection: Connection, plan_id: int, district: str, graph: RoadGraph
) -> dict[str, PlanReplay | None] | None:
    """The side-by-side replay of the district's last year of cases, or None without cases."""
    period = last_year(connection, district)
    return None if period is None else replay_side_by_side(connection, plan_id, period, graph)


def workload_colour(ratio: float) -> str:
    return next(colour for upper, colour in RAMP if ratio < upper)


def add_workload_layer(fmap: folium.Map, grids: gpd.GeoDataFrame, replay: PlanReplay) -> None:
    """Grids coloured by workload / the plan's mean (hidden until chosen in the layer control)."""
    loads = {row.code: row.workload_hours for row in replay.grids}
    mean = sum(loads.values()) / max(len(loads), 1) or 1.0
    frame = grids.assign(workload_h=[round(loads.get(c, 0.0), 1) for c in grids["code"]])
    frame["ratio"] = (frame["workload_h"] / mean).round(2)

    def style(feature: dict) -> dict:
        colour = workload_colour(feature["properties"]["ratio"])
        return {"fillColor": colour, "color": "#555", "weight": 0.6, "fillOpacity": 0.6}

    folium.GeoJson(
        frame,
        name="工作量 workload / mean",
        show=False,
        style_function=style,
        tooltip=folium.GeoJsonTooltip(["code", "households", "workload_h", "ratio"]),
    ).add_to(fmap)


def section_html(result: dict[str, PlanReplay | None] | None) -> str:
    """The report's workload and replay section (a note when the district has no cases yet)."""
    title = f"<h2>{bi('工作量与案件回放', 'Workload and case replay')}</h2>"
    if result is None or result["plan"] is None:
        none = bi("本区还没有案件，无法回放。", "The district has no cases to replay yet.")
        return f'<div class="wg-report">{title}<p>{none}</p></div>'
    plan, active = result["plan"], result["active"]
    period = f"{plan.since[:10]} .. {plan.until[:10]}"
    intro = bi(
        f"{period} 的全部案件按本方案和现行方案重新分派到网格及其网格员（见 README“工作量”）。",
        f"Every case of {period} re-assigned to the grid and worker it would have had under this plan and "
        "under the active plan (see the README, workload).",
    )
    return (
        f'<div class="wg-report" id="wg-workload">{title}<p>{intro}</p>{_summary(plan, active)}'
        f"<h3>{bi('工作量最大的网格', 'Grids with the most work')}</h3>{_grids(plan)}"
        f"<h3>{bi('工作量变化最大的网格员', 'Workers whose work changes most')}</h3>"
        f"{_workers(plan, active)}</div>"
    )


def _summary(plan: PlanReplay, active: PlanReplay | None) -> str:
    head = f"<tr><th></th><th>{bi('本方案', 'This plan')}</th><th>{bi('现行方案', 'Active plan')}</th></tr>"
    busy = plan.summary.get("busy_over_mean")
    rows = "".join(
        f'<tr><th class="text">{bi(*(label.format(x=busy) for label in LABELS[key]))}</th>'
        f"<td>{_cell(plan.summary.get(key))}</td>"
        f"<td>{_cell(active.summary.get(key) if active else None)}</td></tr>"
        for key in LABELS
    )
    return f'<table id="wg-replay-summary">{head}{rows}</table>'


def _grids(plan: PlanReplay) -> str:
    head = _row(
        "th",
        bi("网格", "Grid"),
        bi("网格员", "Worker"),
        bi("户数", "Households"),
        bi("案件", "Cases"),
        bi("工作量（时）", "Workload (h)"),
        "ETA p90 (s)",
        bi("按期", "On time"),
    )
    busiest = sorted(plan.grids, key=lambda row: -row.workload_hours)[:ROWS]
    body = "".join(_grid_row(row) for row in busiest)
    return f'<table id="wg-busiest">{head}{body}</table>'


def _grid_row(row: ReplayRow) -> str:
    return _row(
        "td",
        html.escape(row.code),
        html.escape(row.worker_name or "—"),
        row.households,
        row.cases,
        f"{row.workload_hours:.0f}",
        _cell(row.eta_p90_s),
        _cell(row.on_time_share),
    )


def _workers(plan: PlanReplay, active: PlanReplay | None) -> str:
    before = {row.worker_id: row for row in (active.workers if active else [])}
    changes = sorted(
        ((row, before.get(row.worker_id)) for row in plan.workers),
        key=lambda pair: -abs(pair[0].workload_hours - (pair[1].workload_hours if pair[1] else 0.0)),
    )[:ROWS]
    head = _row(
        "th",
        bi("网格员", "Worker"),
        bi("现行网格", "Grid now"),
        bi("现行工作量", "Workload now"),
        bi("新网格", "New grid"),
        bi("新工作量", "New workload"),
        bi("按期（现/新）", "On time (now/new)"),
    )
    body = "".join(
        _row(
            "td",
            html.escape(new.worker_name),
            html.escape(old.code if old else "—"),
            f"{old.workload_hours:.0f}" if old else "—",
            html.escape(new.code),
            f"{new.workload_hours:.0f}",
            f"{_cell(old.on_time_share if old else None)} / {_cell(new.on_time_share)}",
        )
        for new, old in changes
    )
    return f'<table id="wg-workers">{head}{body}</table>'


def _row(tag: str, *cells: object) -> str:
    return "<tr>" + "".join(f"<{tag}>{cell}</{tag}>" for cell in cells) + "</tr>"


def _cell(value: object) -> str:
    if value is None:
        return "—"
    return f"{value:.4g}" if isinstance(value, float) else html.escape(str(value))
