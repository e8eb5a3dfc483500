"""Planner's HTML report for a plan: folium map (old vs new, deviation, moved households),
histograms of households per community and grid, and the metrics table."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
from sqlalchemy import Connection, Engine, text

from gis_api.districts.service import synthetic_layers
from gis_api.plans.active import active_plan_id
from gis_api.plans.service import get_plan

LAYERS_SQL = {
    "communities": "SELECT code, name, households, ST_Simplify(geom, :tol) AS geom "
    "FROM community WHERE plan_id = :p",
    "grids": "SELECT code, name, households, ST_Simplify(geom, :tol) AS geom FROM grid WHERE plan_id = :p",
}
MOVED_SQL = """
SELECT h.geom FROM plan_assignment a JOIN household h ON h.id = a.household_id
JOIN grid g_new ON g_new.id = a.grid_id JOIN community c_new ON c_new.id = g_new.community_id
JOIN grid g_old ON g_old.id = h.grid_id JOIN community c_old ON c_old.id = g_old.community_id
WHERE a.plan_id = :p AND c_new.code <> c_old.code AND h.id % :every = 0
"""
MOVED_SAMPLE_EVERY = 50
# About 2 m: invisible at street zoom, and it keeps the report a few MB instead of tens.
SIMPLIFY_DEGREES = 0.00002


def read_layer(connection: Connection, layer: str, plan_id: int) -> gpd.GeoDataFrame:
    params = {"p": plan_id, "tol": SIMPLIFY_DEGREES}
    return gpd.read_postgis(text(LAYERS_SQL[layer]), connection, geom_col="geom", params=params)


def histogram_png(values: np.ndarray, target: float, title: str) -> str:
    """A base64 PNG histogram with the target and ±10 % marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 3), dpi=100)
    axes.hist(values, bins=40, color="#4c72b0")
    for x, style in ((target, "-"), (target * 0.9, "--"), (target * 1.1, "--")):
        axes.axvline(x, color="#c44e52", linestyle=style, linewidth=1)
    axes.set_title(title)
    axes.set_xlabel("households")
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


def deviation_style(target: float) -> Callable[[dict], dict]:
    """Folium style function colouring by deviation from target (blue under, red over)."""

    def style(feature: dict) -> dict:
        deviation = (feature["properties"]["households"] - target) / target
        colour = (
            "#2c7bb6"
            if deviation < -0.1
            else "#abd9e9"
            if deviation < -0.05
            else "#ffffbf"
            if deviation <= 0.05
            else "#fdae61"
            if deviation <= 0.1
            else "#d7191c"
        )
        return {"fillColor": colour, "color": "#555", "weight": 0.6, "fillOpacity": 0.55}

    return style  # fmt: skip


LEAFLET_DIR = Path(__file__).resolve().parents[2] / "webmap" / "vendor" / "leaflet-1.9.4"


def offline_map(**options: object) -> folium.Map:
    """A folium map that needs no internet: our vendored Leaflet inlined instead of CDN links."""
    fmap = folium.Map(**options)  # type: ignore[arg-type]
    fmap.default_js, fmap.default_css = [], []
    script = (LEAFLET_DIR / "leaflet.js").read_text(encoding="utf-8")
    style = (LEAFLET_DIR / "leaflet.css").read_text(encoding="utf-8")
    fmap.get_root().header.add_child(  # type: ignore[attr-defined]
        folium.Element(f"<style>{style}</style><script>{script}</script>")
    )
    return fmap


def plan_map(
    connection: Connection,
    layers: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame],
    plan_id: int,
    old_plan_id: int | None,
    targets: tuple[float, float],
) -> folium.Map:
    """Leaflet map: new grids by deviation, new and old community outlines, sample of moved households."""
    communities, grids = layers
    bounds = communities.total_bounds
    fmap = offline_map(location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2], zoom_start=13,
                      tiles=None, height="640px")  # fmt: skip
    folium.GeoJson(grids, name="网格 (偏差)", style_function=deviation_style(targets[1]),
                   tooltip=folium.GeoJsonTooltip(["code", "name", "households"])).add_to(fmap)  # fmt: skip
    outline = {"color": "#000", "weight": 2, "fill": False}
    folium.GeoJson(communities, name="新社区", style_function=lambda _: outline,
                   tooltip=folium.GeoJsonTooltip(["code", "name", "households"])).add_to(fmap)  # fmt: skip
    if old_plan_id is not None:
        old = read_layer(connection, "communities", old_plan_id)
        dashed = {"color": "#d95f02", "weight": 1.5, "dashArray": "4 4", "fill": False}
        folium.GeoJson(old, name="旧社区", show=False, style_function=lambda _: dashed).add_to(fmap)
        moved = gpd.read_postgis(text(MOVED_SQL), connection, geom_col="geom",
                                 params={"p": plan_id, "every": MOVED_SAMPLE_EVERY})  # fmt: skip
        folium.GeoJson(moved, name=f"换社区的住户 (1/{MOVED_SAMPLE_EVERY} 抽样)", show=False,
                       marker=folium.CircleMarker(radius=1, color="#7b3294")).add_to(fmap)  # fmt: skip
    folium.LayerControl().add_to(fmap)
    fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    return fmap


def metrics_table(metrics: dict) -> str:
    """HTML table of the communities' and grids' figures side by side."""
    levels = {name: metrics.get(name, {}) for name in ("communities", "grids")}
    keys = sorted(set().union(*(level.keys() for level in levels.values())))
    rows = "".join(
        f"<tr><th>{html.escape(key)}</th>"
        + "".join(f"<td>{_cell(levels[n].get(key))}</td>" for n in levels)
        + "</tr>"
        for key in keys
    )
    return f"<table><tr><th></th><th>社区</th><th>网格</th></tr>{rows}</table>"


def _cell(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else html.escape(str(value))


@contextmanager
def _connection(bind: Engine | Connection) -> Iterator[Connection]:
    if isinstance(bind, Connection):
        yield bind
    else:
        with bind.connect() as connection:
            yield connection


def write_plan_report(bind: Engine | Connection, plan_id: int, path: Path) -> Path:
    """Write the report for a plan (compared with the active plan) to `path`."""
    with _connection(bind) as connection:
        plan = get_plan(connection, plan_id)
        active = active_plan_id(connection, plan.district_code)
        synthetic = bool(synthetic_layers(connection, plan.district_code))
        targets = (
            float(plan.metrics.get("community_target", 3000)),
            float(plan.metrics.get("grid_target", 300)),
        )
        layers = (read_layer(connection, "communities", plan_id), read_layer(connection, "grids", plan_id))
        fmap = plan_map(connection, layers, plan_id, active if active != plan_id else None, targets)
    communities, grids = (layer["households"].to_numpy() for layer in layers)
    figures = "".join(
        f'<img alt="{title}" src="data:image/png;base64,{histogram_png(values, target, title)}">'
        for values, target, title in (
            (communities, targets[0], "households per community"),
            (grids, targets[1], "households per grid"),
        )
    )
    header = f"""<div style="font-family:sans-serif;margin:0.5em 1em">
<h1>{html.escape(plan.name)}（方案 {plan_id}，{plan.status}）</h1>
<p>{plan.communities} 个社区，{plan.grids} 个网格；与现行方案 {active} 对比。
地图数据 © OpenStreetMap contributors（ODbL）{"及合成演示数据" if synthetic else ""}。</p></div>"""
    footer = f"""<div style="font-family:sans-serif;margin:0.5em 1em">
<style>table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 6px;text-align:right}}</style>
<h2>户数分布</h2>{figures}<h2>指标</h2>{metrics_table(plan.metrics)}
<p>households keeping community and grid: {plan.metrics.get("share_unchanged", 0):.1%}</p></div>"""
    fmap.get_root().header.add_child(  # type: ignore[attr-defined]
        folium.Element(f"<title>方案 {plan_id} 报告</title>")
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fmap.save(str(path))
    # folium writes only the map into <body>: the title goes above it, figures and table below
    saved = path.read_text(encoding="utf-8").replace("<body>", "<body>" + header, 1)
    path.write_text(saved.replace("</body>", footer + "</body>", 1), encoding="utf-8")
    return path
