"""`wangge load roads FILE`: build the routable graph and replace road_node/road_edge with it.

One district's network is replaced in one transaction (a savepoint of the caller's, as for the
other loaders: on error nothing changes; on success the caller commits); other districts' roads
stay, and the new rows take ids after every existing one so networks never collide. Lines are
clipped to the district outline by default, or to the outline grown by `clip_buffer_m`: a network
cut exactly at the outline falls apart into pieces joined only outside it (Shanghai 黄浦区: 74
components, the largest 71.6 % of the nodes), while a kilometre or two beyond keeps the roads that
join them (the margin is this district's copy: a neighbour's own network keeps its rows). Lengths
and snapping are measured in the district's metric CRS. For a geometry-only file such as WHroad,
pass `attributes_from` (an OSM lines file with highway/type and name, e.g.
osm_roads_l7_wuchang_1km.geojson) to copy names and classes from the OSM ways the lines run along;
the rest are inferred by roads.network from straight-through strokes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import text

from gis_api.districts.service import resolve_district
from gis_api.errors import LoadError
from gis_api.loaders.bulk import copy_frame, hex_ewkb
from gis_api.loaders.district_scope import Provenance, district_outline, record_load
from gis_api.loaders.readers import read_features
from gis_api.loaders.report import format_messages
from gis_api.loaders.road_attributes import MatchSummary, attach_osm_attributes
from gis_api.loaders.road_lines import read_road_lines
from gis_api.loaders.transaction import Database, one_transaction
from gis_api.roads.network import RoadNetwork, build_network

log = logging.getLogger(__name__)

EDGE_COLUMNS = [
    "id", "source", "target", "name", "road_class", "oneway", "length_m", "speed_kmh",
    "travel_time_s", "cost", "reverse_cost",
]  # fmt: skip


@dataclass
class RoadLoadReport:
    """What was stored: graph size, connectivity, and where the road classes came from."""

    path: Path
    nodes: int
    edges: int
    km: float
    components: int
    largest_component_nodes: int
    largest_component_share: float
    largest_component_km_share: float
    km_by_class: dict[str, float]
    class_sources: dict[str, int]
    replaced_edges: int
    elapsed_s: float = 0.0
    messages: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        classes = ", ".join(f"{name} {km:.1f}" for name, km in self.km_by_class.items())
        sources = ", ".join(f"{origin} {count}" for origin, count in self.class_sources.items())
        lines = [
            f"{self.path.name} -> road network: {self.nodes} nodes, {self.edges} edges, "
            f"{self.km:.1f} km in {self.elapsed_s:.1f} s (replaced {self.replaced_edges} edges)",
            f"  {self.components} connected component{'s' if self.components != 1 else ''}; "
            f"the largest holds {self.largest_component_nodes} nodes "
            f"({self.largest_component_share:.1%} of the nodes, {self.largest_component_km_share:.1%} "
            "of the length)",
            f"  km by class: {classes}",
            f"  class taken from: {sources}",
        ]
        return "\n".join(lines + format_messages(self.messages))


def load_roads(
    db: Database,
    path: str | Path,
    *,
    crs: str | None = None,
    clip_to_district: bool = True,
    attributes_from: str | Path | None = None,
    layer: str | None = None,
    snap_tolerance_m: float = 1.0,
    clip_buffer_m: float = 0.0,
    district: str | None = None,
    provenance: Provenance | None = None,
) -> RoadLoadReport:
    """Read, clip, build and store a district's road network; see the module docstring."""
    started, path = time.perf_counter(), Path(path)
    target = resolve_district(db, district)
    network, messages = build_road_network(
        db,
        path,
        district=target.code,
        crs=crs,
        clip_to_district=clip_to_district,
        attributes_from=attributes_from,
        layer=layer,
        snap_tolerance_m=snap_tolerance_m,
        clip_buffer_m=clip_buffer_m,
    )
    with one_transaction(db, path):
        report = store_network(db, path, network, target.code, messages, started)
        record_load(db, target.code, "roads", path, provenance)
    return report


def store_network(
    db: Database, path: Path, network: RoadNetwork, district: str, messages: list[str], started: float
) -> RoadLoadReport:
    """Replace the district's stored graph with `network` (inside the caller's transaction) and
    report it."""
    replaced = _replace_network(db, network, district)
    report = _report(path, network, replaced, messages, time.perf_counter() - started)
    log.debug("%s", report)
    return report


def build_road_network(
    db: Database,
    path: Path,
    *,
    district: str | None = None,
    crs: str | None = None,
    clip_to_district: bool = True,
    attributes_from: str | Path | None = None,
    layer: str | None = None,
    snap_tolerance_m: float = 1.0,
    clip_buffer_m: float = 0.0,
) -> tuple[RoadNetwork, list[str]]:
    """The network load_roads would store (reads the district outline only), with notes."""
    target = resolve_district(db, district)
    messages: list[str] = []
    lines = read_road_lines(path, crs=crs, layer=layer)
    if clip_to_district:
        lines = clip_lines(
            lines, district_outline(db, path, target.code), path, clip_buffer_m, target.metric_crs
        )
    if attributes_from is not None:
        lines, summary = _with_osm_attributes(lines, Path(attributes_from), target.metric_crs)
        messages.append(str(summary))
    return network_from_lines(lines, path, snap_tolerance_m, target.metric_crs), messages


def network_from_lines(
    lines: gpd.GeoDataFrame, path: Path, snap_tolerance_m: float, metric_crs: str
) -> RoadNetwork:
    """roads.network.build_network, its complaints as LoadError."""
    try:
        return build_network(lines, snap_tolerance_m=snap_tolerance_m, metric_crs=metric_crs)
    except ValueError as error:
        raise LoadError(f"{path.name}: {error}") from error


def clip_lines(
    lines: gpd.GeoDataFrame, outline: shapely.Geometry, path: Path, buffer_m: float, crs: str
) -> gpd.GeoDataFrame:
    """The parts of the lines inside the outline grown by buffer_m (touching points and slivers
    dropped)."""
    if buffer_m > 0:
        grown = gpd.GeoSeries([outline], crs="EPSG:4326").to_crs(crs).buffer(buffer_m)
        outline = grown.to_crs("EPSG:4326").iloc[0]
    shapely.prepare(outline)
    clipped = lines.copy()
    clipped["geometry"] = shapely.intersection(lines.geometry.values, outline)
    parts = clipped.explode(index_parts=False, ignore_index=True)
    parts = parts[parts.geom_type.eq("LineString") & ~parts.geometry.is_empty]
    if parts.empty:
        raise LoadError(f"{path.name}: no road lies inside the district")
    return gpd.GeoDataFrame(parts, geometry="geometry", crs="EPSG:4326").reset_index(drop=True)


def _with_osm_attributes(
    lines: gpd.GeoDataFrame, reference_path: Path, metric_crs: str
) -> tuple[gpd.GeoDataFrame, MatchSummary]:
    reference = read_features(reference_path)
    try:
        return attach_osm_attributes(lines, reference, metric_crs=metric_crs)
    except ValueError as error:
        raise LoadError(f"{reference_path.name}: {error}") from error


ID_OFFSET_SQL = "SELECT coalesce(max(id), 0) FROM {table}"


def _replace_network(db: Database, network: RoadNetwork, district: str) -> int:
    """Delete the district's old graph and COPY the new one with ids after every existing one
    (other districts' networks stay); returns the number of edges replaced."""
    db.execute(text("LOCK TABLE road_node, road_edge IN SHARE ROW EXCLUSIVE MODE"))  # one load at a time
    where = {"d": district}
    replaced = int(
        db.execute(text("SELECT count(*) FROM road_edge WHERE district_code = :d"), where).scalar_one()
    )
    db.execute(text("DELETE FROM road_edge WHERE district_code = :d"), where)
    db.execute(text("DELETE FROM road_node WHERE district_code = :d"), where)
    node_offset, edge_offset = (
        int(db.execute(text(ID_OFFSET_SQL.format(table=table))).scalar_one())
        for table in ("road_node", "road_edge")
    )
    nodes = pd.DataFrame(
        {
            "id": network.nodes["id"] + node_offset,
            "component": network.nodes["component"],
            "district_code": district,
            "geom": hex_ewkb(network.nodes.geometry),
        }
    )
    copy_frame(db, "road_node", nodes)
    edges = pd.DataFrame(network.edges[EDGE_COLUMNS])
    edges[["id", "source", "target"]] += np.array([edge_offset, node_offset, node_offset])
    copy_frame(db, "road_edge", edges.assign(district_code=district, geom=hex_ewkb(network.edges.geometry)))
    return replaced


def _report(
    path: Path, network: RoadNetwork, replaced: int, messages: list[str], elapsed_s: float
) -> RoadLoadReport:
    sizes = network.component_sizes()
    by_class = network.edges.groupby("road_class")["length_m"].sum().sort_values(ascending=False)
    return RoadLoadReport(
        path=path,
        nodes=len(network.nodes),
        edges=len(network.edges),
        km=network.total_km,
        components=len(sizes),
        largest_component_nodes=int(sizes[0]),
        largest_component_share=network.largest_component_share,
        largest_component_km_share=_largest_km_share(network),
        km_by_class={str(name): float(metres / 1000.0) for name, metres in by_class.items()},
        class_sources=network.class_sources,
        replaced_edges=replaced,
        elapsed_s=elapsed_s,
        messages=messages,
    )


def _largest_km_share(network: RoadNetwork) -> float:
    """Share of the road length in the largest component (component 0), by the edges' source."""
    component = network.nodes["component"].to_numpy()[network.edges["source"].to_numpy() - 1]
    lengths = network.edges["length_m"].to_numpy()
    total = float(lengths.sum())
    return float(lengths[component == 0].sum() / total) if total else 0.0
