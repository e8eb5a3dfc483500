"""Planner's HTML report for a plan: a full-width folium map (new grids by deviation with a legend
and a scale bar, new and old community outlines, buildings whose households move), histograms of
households per community and grid, the metrics explained, and the grids to review.

Chinese first; a switch at the top shows English (CSS only). Leaflet and its images are inlined,
so the file works offline and when saved.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import folium
import geopandas as gpd
from sqlalchemy import Connection, Engine, text

from gis_api.districts.service import DistrictRow, get_district, synthetic_layers
from gis_api.plans.active import active_plan_id
from gis_api.plans.service import PlanSummary, get_plan
from gis_api.redistrict.report_figures import DeviationLegend, MetricScale, deviation_colour, histogram_svg
from gis_api.redistrict.report_review import grids_to_review, review_table
from gis_api.redistrict.report_splits import has_splits, legend_rows, split_markers, splits_html
from gis_api.redistrict.report_text import LANGUAGE_CSS, bi, metric_label, toggle_html

LAYERS_SQL = {
    "communities": "SELECT code, name, households, ST_Simplify(geom, :tol) AS geom "
    "FROM community WHERE plan_id = :p",
    "grids": "SELECT code, name, households, ST_Simplify(geom, :tol) AS geom FROM grid WHERE plan_id = :p",
}
# Households whose community changes, per building (or 50 m cell for households without one): planners
# see counts, never single homes.
MOVED_SQL = """
SELECT count(*)::int AS households, coalesce(ST_PointOnSurface(b.geom), m.cell) AS geom
FROM (
    SELECT h.building_id, CASE WHEN h.building_id IS NULL THEN ST_SnapToGrid(h.geom, 0.0005) END AS cell
    FROM plan_assignment a JOIN household h ON h.id = a.household_id
    JOIN grid g_new ON g_new.id = a.grid_id JOIN community c_new ON c_new.id = g_new.community_id
    JOIN grid g_old ON g_old.id = h.grid_id JOIN community c_old ON c_old.id = g_old.community_id
    WHERE a.plan_id = :p AND c_new.code <> c_old.code
) m LEFT JOIN building b ON b.id = m.building_id
GROUP BY m.building_id, m.cell, b.geom
"""
ANALYZE_SQL = "ANALYZE plan_assignment, household, grid, community, building"
# About 2 m: invisible at street zoom, and it keeps the report a few MB instead of tens.
SIMPLIFY_DEGREES = 0.00002
MAP_HEIGHT = "72vh"
WGS84 = "EPSG:4326"


def read_layer(connection: Connection, layer: str, plan_id: int) -> gpd.GeoDataFrame:
    params = {"p": plan_id, "tol": SIMPLIFY_DEGREES}
    return gpd.read_postgis(text(LAYERS_SQL[layer]), connection, geom_col="geom", params=params, crs=WGS84)


def deviation_style(target: float) -> Callable[[dict], dict]:
    """Folium style function colouring by deviation from target (blue under, red over)."""

    def style(feature: dict) -> dict:
        deviation = (feature["properties"]["households"] - target) / target
        return {"fillColor": deviation_colour(deviation), "color": "#555", "weight": 0.6, "fillOpacity": 0.55}

    return style


LEAFLET_DIR = Path(__file__).resolve().parents[2] / "webmap" / "vendor" / "leaflet-1.9.4"


def inlined_leaflet_css() -> str:
    """Leaflet's stylesheet with its images as data: URLs (a saved report has no images folder)."""
    style = (LEAFLET_DIR / "leaflet.css").read_text(encoding="utf-8")
    for image in sorted((LEAFLET_DIR / "images").glob("*.png")):
        data = base64.b64encode(image.read_bytes()).decode("ascii")
        style = style.replace(f"url(images/{image.name})", f"url(data:image/png;base64,{data})")
    return style


def offline_map(**options: object) -> folium.Map:
    """A folium map that needs no internet: our vendored Leaflet inlined instead of CDN links."""
    fmap = folium.Map(**options)  # type: ignore[arg-type]
    fmap.default_js, fmap.default_css = [], []
    script = (LEAFLET_DIR / "leaflet.js").read_text(encoding="utf-8")
    fmap.get_root().header.add_child(  # type: ignore[attr-defined]
        folium.Element(f"<style>{inlined_leaflet_css()}</style><script>{script}</script>")
    )
    return fmap


def plan_map(
    connection: Connection,
    layers: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame],
    plan_id: int,
    old_plan_id: int | None,
    targets: tuple[float, float],
    overlays: Sequence[folium.FeatureGroup] = (),
    extra_rows: Sequence[str] = (),
) -> folium.Map:
    """Leaflet map: new grids by deviation, new and old community outlines, buildings with moves, and
    `overlays` (the splits layer) with their `extra_rows` in the legend."""
    communities, grids = layers
    bounds = communities.total_bounds
    fmap = offline_map(location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2], zoom_start=13,
                      tiles=None, height=MAP_HEIGHT)  # fmt: skip
    folium.GeoJson(grids, name="网格 grids", style_function=deviation_style(targets[1]),
                   tooltip=folium.GeoJsonTooltip(["code", "name", "households"])).add_to(fmap)  # fmt: skip
    outline = {"color": "#000", "weight": 2, "fill": False}
    folium.GeoJson(communities, name="新社区 new communities", style_function=lambda _: outline,
                   tooltip=folium.GeoJsonTooltip(["code", "name", "households"])).add_to(fmap)  # fmt: skip
    if old_plan_id is not None:
        _add_old_plan(fmap, connection, plan_id, old_plan_id)
    for overlay in overlays:  # before the layer control, which refers to every layer by name
        overlay.add_to(fmap)
    DeviationLegend(extra_rows).add_to(fmap)
    MetricScale().add_to(fmap)
    folium.LayerControl().add_to(fmap)
    fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    return fmap


def _add_old_plan(fmap: folium.Map, connection: Connection, plan_id: int, old_plan_id: int) -> None:
    """Old community outlines and the buildings (or 50 m cells) whose households change community."""
    old = read_layer(connection, "communities", old_plan_id)
    dashed = {"color": "#d95f02", "weight": 1.5, "dashArray": "4 4", "fill": False}
    folium.GeoJson(old, name="旧社区 old communities", show=False, style_function=lambda _: dashed).add_to(
        fmap
    )
    # a draft is written in one transaction just before its report: without fresh statistics the
    # planner takes its tens of thousands of rows for one and nests loops over them (minutes)
    connection.execute(text(ANALYZE_SQL))
    moved = gpd.read_postgis(text(MOVED_SQL), connection, geom_col="geom", params={"p": plan_id}, crs=WGS84)
    if moved.empty:
        return
    folium.GeoJson(moved, name="换社区的楼栋 buildings changing community", show=False,
                   marker=folium.CircleMarker(radius=2, color="#7b3294"),
                   tooltip=folium.GeoJsonTooltip(["households"])).add_to(fmap)  # fmt: skip


def metrics_table(metrics: dict) -> str:
    """The communities' and grids' figures side by side, each metric named and explained."""
    levels = {name: metrics.get(name, {}) for name in ("communities", "grids")}
    keys = sorted(set().union(*(level.keys() for level in levels.values())))
    rows = []
    for key in keys:
        name, explanation = metric_label(key)
        cells = "".join(f"<td>{_cell(levels[n].get(key))}</td>" for n in levels)
        rows.append(f'<tr><th class="text">{name}</th>{cells}<td class="text">{explanation}</td></tr>')
    head = f"<tr><th></th><th>{bi('社区', 'Communities')}</th><th>{bi('网格', 'Grids')}</th><th></th></tr>"
    return f'<table id="wg-metrics">{head}{"".join(rows)}</table>'


def _cell(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else html.escape(str(value))


@contextmanager
def _connection(bind: Engine | Connection) -> Iterator[Connection]:
    if isinstance(bind, Connection):
        yield bind
    else:
        with bind.connect() as connection:
            yield connection


def histograms(layers: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame], targets: tuple[float, float]) -> str:
    """Households per community and per grid, with their targets."""
    communities, grids = (layer["households"].to_numpy(dtype=float) for layer in layers)
    figures = (
        histogram_svg(
            communities, targets[0], ("各社区户数", "Households per community"), ("户数", "households")
        ),
        histogram_svg(grids, targets[1], ("各网格户数", "Households per grid"), ("户数", "households")),
    )
    return f'<div class="wg-figures">{"".join(figures)}</div>'


def header_html(plan: PlanSummary, active: int | None, district: DistrictRow, synthetic: bool) -> str:
    """Title (with the district's name from the database) and one line of context above the map."""
    status = {"draft": ("草案", "draft"), "active": ("现行", "active"), "archived": ("归档", "archived")}
    zh_status, en_status = status.get(plan.status, (plan.status, plan.status))
    # the district's name leads the title unless the plan's name already starts with it
    named = plan.name if plan.name.startswith(district.name) else f"{district.name} · {plan.name}"
    title = bi(f"{named}（方案 {plan.id}，{zh_status}）", f"{named} (plan {plan.id}, {en_status})")
    against = bi(f"与现行方案 {active} 对比。", f"Compared with the active plan {active}.") if active else ""
    counts = bi(
        f"{plan.communities} 个社区，{plan.grids} 个网格。",
        f"{plan.communities} communities, {plan.grids} grids. ",
    )
    source = bi(
        "地图数据 © OpenStreetMap contributors（ODbL）" + ("及合成演示数据。" if synthetic else "。"),
        "Map data © OpenStreetMap contributors (ODbL)" + (" and synthetic demo data." if synthetic else "."),
    )
    return f'<div class="wg-report"><h1>{title}</h1><p>{counts}{against}{source}</p></div>'


def footer_html(
    connection: Connection,
    plan: PlanSummary,
    layers: tuple,
    targets: tuple[float, float],
    district: DistrictRow,
) -> str:
    """Histograms, grids to review (shapes measured in the district's metric CRS), metrics table, and
    the splits: buildings and points divided between communities, shared address points."""
    review = grids_to_review(connection, plan.id, targets[1], district.metric_srid)
    unchanged = float(plan.metrics.get("share_unchanged", 0))
    kept = bi(
        f"社区和网格都不变的住户：{unchanged:.1%}", f"Households keeping community and grid: {unchanged:.1%}"
    )
    return (
        f'<div class="wg-report"><h2>{bi("户数分布", "Households per area")}</h2>'
        f"{histograms(layers, targets)}"
        f"<h2>{bi(f'需要复核的网格（{len(review)} 个）', f'Grids to review ({len(review)})')}</h2>"
        f"{review_table(review)}{measured_in(district)}"
        f"<h2>{bi('指标', 'Metrics')}</h2>{metrics_table(plan.metrics)}"
        f"<p>{kept}</p>{splits_html(plan.metrics)}</div>"
    )


def measured_in(district: DistrictRow) -> str:
    """The line saying in which projected CRS areas and perimeters were measured."""
    crs = f"{district.metric_crs}（{district.metric_crs_family}）"
    return (
        "<p>"
        + bi(
            f"面积与周长在{district.name}的平面坐标系 {crs} 中计算。",
            f"Areas and perimeters are measured in {district.name}'s projected CRS {crs}.",
        )
        + "</p>"
    )


def write_plan_report(bind: Engine | Connection, plan_id: int, path: Path) -> Path:
    """Write the report for a plan (compared with the active plan) to `path`."""
    with _connection(bind) as connection:
        plan = get_plan(connection, plan_id)
        district = get_district(connection, plan.district_code)
        active = active_plan_id(connection, district.code)
        synthetic = bool(synthetic_layers(connection, district.code))
        targets = (
            float(plan.metrics.get("community_target", 3000)),
            float(plan.metrics.get("grid_target", 300)),
        )
        layers = (read_layer(connection, "communities", plan_id), read_layer(connection, "grids", plan_id))
        overlays = [split_markers(plan.metrics)] if has_splits(plan.metrics) else []
        fmap = plan_map(
            connection, layers, plan_id, active if active != plan_id else None, targets,
            overlays, legend_rows(plan.metrics),
        )  # fmt: skip
        header = header_html(plan, active, district, synthetic)
        footer = footer_html(connection, plan, layers, targets, district)
    fmap.get_root().header.add_child(  # type: ignore[attr-defined]
        folium.Element(
            f"<title>方案 {plan_id} 报告 · plan {plan_id} report</title>"
            f'<link rel="icon" href="data:,"><style>{LANGUAGE_CSS}</style>'
        )
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fmap.save(str(path))
    # folium writes only the map into <body>: the switch and title go above it, the rest below
    saved = path.read_text(encoding="utf-8").replace("<body>", "<body>" + toggle_html() + header, 1)
    path.write_text(saved.replace("</body>", footer + "</body>", 1), encoding="utf-8")
    return path
