"""The plan report's splits: a map layer and legend rows for shared address points and for every
building or point the plan divides between communities, and the section listing them below the map.

Figures come from `plan.metrics` (see splits.py); texts in both languages like the rest of the report.
"""

from __future__ import annotations

import html

import folium

from gis_api.redistrict.report_text import bi

SHARED_COLOUR = "#666"
DIVIDED_COLOUR = "#c0392b"
LAYER_NAME = "拆分与共用地址点 splits and shared points"


def has_splits(metrics: dict) -> bool:
    """Whether the plan has anything to mark: a divided building or a shared point."""
    return bool(metrics.get("community_splits") or metrics.get("shared_points"))


def legend_rows(metrics: dict) -> list[str]:
    """Legend entries for the markers of `split_markers` (none when the plan has nothing to mark)."""
    if not has_splits(metrics):
        return []
    marks = (
        (SHARED_COLOUR, "共用地址点（按户数大小）", "Shared address point (sized by households)"),
        (DIVIDED_COLOUR, "分属多个社区的楼栋或地址点", "Building or point divided between communities"),
    )
    return [
        f'<div><i style="background:{colour};border-radius:50%"></i>{bi(zh, en)}</div>'
        for colour, zh, en in marks
    ]


def split_markers(metrics: dict) -> folium.FeatureGroup:
    """Map layer: shared address points (grey, sized by households) and every building or point
    divided between communities (red), with their figures in the tooltip."""
    layer = folium.FeatureGroup(name=LAYER_NAME)
    splits = metrics.get("splits", {})
    for point in splits.get("shared_points", []):
        radius = 3 + min(float(point["households"]), 25_000.0) ** 0.5 / 10
        households, buildings = f"{point['households']:,}", point["buildings"]
        tip = bi(
            f"共用地址点：{households} 户，分摊到 {buildings} 栋楼",
            f"Shared address point: {households} households, spread over {buildings} buildings",
        )
        folium.CircleMarker([point["lat"], point["lon"]], radius=radius, color=SHARED_COLOUR, weight=1,
                            fill=True, fill_opacity=0.3, tooltip=tip).add_to(layer)  # fmt: skip
    for split in splits.get("communities", []):
        zh_where, en_where = _where(split)
        shares = _shares(split["communities"])
        tip = bi(f"{zh_where}：{split['households']:,} 户 → {shares}",
                 f"{en_where}: {split['households']:,} households → {shares}")  # fmt: skip
        folium.CircleMarker([split["lat"], split["lon"]], radius=5, color=DIVIDED_COLOUR, weight=2,
                            fill=True, fill_opacity=0.8, tooltip=tip).add_to(layer)  # fmt: skip
    return layer


def splits_html(metrics: dict) -> str:
    """Every building or shared point the plan divides between communities, every shared point, and
    the grids defined by assignment (households sharing one point that no polygon can separate)."""
    splits = metrics.get("splits", {})
    divided, shared = splits.get("communities", []), splits.get("shared_points", [])
    grid_splits = metrics.get("grid_splits", 0)
    return (
        f"<h2>{bi('拆分', 'Splits')}</h2><p>"
        + bi(
            f"{len(divided)} 个楼栋或共用地址点分属多个社区；{grid_splits} 个楼栋分属多个网格。",
            f"{len(divided)} buildings or shared points are divided between communities; "
            f"{grid_splits} buildings are divided between grids.",
        )
        + f"</p>{_divided_table(divided)}<h2>{bi('共用地址点', 'Shared address points')}</h2><p>"
        + bi(
            f"{len(shared)} 个地址点由多户共用，其中 {metrics.get('shared_points_spread', 0)} 个按建筑面积"
            f"分摊到周边住宅楼。{metrics.get('grids_by_assignment', 0)} 个网格按户分配界定："
            f"{metrics.get('households_by_assignment', 0):,} 户的地址点位于所分配网格之外。",
            f"{len(shared)} address points are shared by several households; "
            f"{metrics.get('shared_points_spread', 0)} of them were spread over the residential buildings "
            f"around them by floor area. {metrics.get('grids_by_assignment', 0)} grids are defined by "
            f"assignment: {metrics.get('households_by_assignment', 0):,} households' address points lie "
            "outside the grid they are assigned to.",
        )
        + f"</p>{_shared_table(shared)}"
    )  # fmt: skip


def _divided_table(divided: list[dict]) -> str:
    head = "".join(
        f"<th>{bi(zh, en)}</th>"
        for zh, en in (("街道", "Street"), ("楼栋或共用点", "Building or point"), ("户数", "Households"),
                       ("切分方式", "Cut"), ("各社区户数", "Households per community"))
    )  # fmt: skip
    cuts = {True: bi("按户序", "by household order"), False: bi("按位置", "by position")}
    rows = "".join(
        f"<tr><td>{_text(s['street'])}</td><td class='text'>{bi(*_where(s))}</td><td>{s['households']:,}</td>"
        f"<td class='text'>{cuts[bool(s['by_order'])]}</td>"
        f"<td class='text'>{_text(_shares(s['communities']))}</td></tr>"
        for s in divided
    )
    return f'<table id="wg-splits"><tr>{head}</tr>{rows}</table>'


def _shared_table(shared: list[dict]) -> str:
    head = "".join(
        f"<th>{bi(zh, en)}</th>"
        for zh, en in (("街道", "Street"), ("经纬度", "Longitude, latitude"), ("户数", "Households"),
                       ("分摊楼栋数", "Buildings spread over"))
    )  # fmt: skip
    rows = "".join(
        f"<tr><td>{_text(p['street'])}</td><td>{p['lon']:.6f}, {p['lat']:.6f}</td>"
        f"<td>{p['households']:,}</td><td>{p['buildings']}</td></tr>"
        for p in shared
    )
    return f'<table id="wg-shared-points"><tr>{head}</tr>{rows}</table>'


def _where(split: dict) -> tuple[str, str]:
    """Building id, or the shared point's position, in both languages."""
    if split.get("building") is not None:
        return f"楼栋 {split['building']}", f"building {split['building']}"
    position = f"{split['lon']:.6f}, {split['lat']:.6f}"
    return f"共用点 {position}", f"shared point {position}"


def _shares(communities: dict) -> str:
    """code: households, ... of one divided building."""
    return ", ".join(f"{code}: {count:,}" for code, count in communities.items())


def _text(value: object) -> str:
    return html.escape(str(value))
