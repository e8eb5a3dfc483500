"""Road files to LineStrings with road_class, name and oneway, ready for roads.network.

OSM XML goes through osmnx (graph_from_xml), which splits ways at shared nodes, i.e. at the
intersections, and follows OSM's one-way rules; PBF is first reduced with pyosmium to the
highway ways plus the nodes they reference, written as XML, and read the same way. Other
formats (Shapefile, GeoJSON, GeoPackage) are read with read_features; their class comes from
a road_class/highway/type/fclass column when there is one.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import osmnx
import pandas as pd
import shapely

from gis_api.errors import LoadError
from gis_api.loaders.columns import FeatureLabels, find_column
from gis_api.loaders.readers import listed, read_features
from gis_api.loaders.validate import repair_geometries

log = logging.getLogger(__name__)

CLASS_COLUMNS = ("road_class", "highway", "type", "fclass", "class")
NAME_COLUMNS = ("name", "road_name")
ONEWAY_COLUMNS = ("oneway",)


def read_road_lines(
    path: str | Path, *, crs: str | None = None, layer: str | None = None
) -> gpd.GeoDataFrame:
    """EPSG:4326 lines with columns road_class, name, oneway (None where the file has none)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".osm":
        return osm_xml_lines(path)
    if suffix == ".pbf":
        return osm_pbf_lines(path)
    features = read_features(path, crs=crs, layer=layer)
    labels = FeatureLabels(features, None)
    checked = repair_geometries(features.geometry, labels, kind="line")
    if checked.rejected:
        raise LoadError(
            f"{path.name}: {len(checked.rejected)} feature(s) are not roads: {listed(checked.rejected)}"
        )
    columns = {
        "road_class": find_column(features, None, CLASS_COLUMNS),
        "name": find_column(features, None, NAME_COLUMNS),
        "oneway": find_column(features, None, ONEWAY_COLUMNS),
    }
    lines = gpd.GeoDataFrame(geometry=checked.geometries.values, crs="EPSG:4326")
    for key, column in columns.items():
        lines[key] = features[column].to_numpy(dtype=object) if column else None
    return lines


def osm_xml_lines(path: Path) -> gpd.GeoDataFrame:
    """Edges of the osmnx graph, one row per road piece (two-way roads once, one-way as drawn)."""
    try:
        graph = osmnx.graph_from_xml(path, simplify=False, retain_all=True)
        graph = osmnx.simplify_graph(
            graph, edge_attrs_differ=["highway", "name", "oneway"], remove_rings=False
        )
        edges = osmnx.graph_to_gdfs(graph, nodes=False).reset_index()
    except (ValueError, KeyError, OSError) as error:
        raise LoadError(f"{path.name}: cannot build a road graph from the OSM file ({error})") from error
    if edges.empty:
        raise LoadError(f"{path.name}: the OSM file contains no highway ways")
    return _one_row_per_road(edges)


def osm_pbf_lines(path: Path) -> gpd.GeoDataFrame:
    """PBF -> (highway ways + their nodes) as OSM XML -> osm_xml_lines."""
    with tempfile.TemporaryDirectory() as scratch:
        xml = Path(scratch) / f"{path.stem}.osm"
        try:
            with osmium.BackReferenceWriter(str(xml), ref_src=str(path), overwrite=True) as writer:
                ways = osmium.FileProcessor(str(path), osmium.osm.WAY)
                for way in ways.with_filter(osmium.filter.KeyFilter("highway")):
                    writer.add_way(way)
        except RuntimeError as error:
            raise LoadError(f"{path.name}: cannot read the PBF file ({error})") from error
        return osm_xml_lines(xml)


def _one_row_per_road(edges: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """osmnx stores a two-way road as u->v and v->u; keep one of them, and every one-way edge."""
    oneway = edges["oneway"].map(_truthy).to_numpy(dtype=bool)
    normalised = shapely.to_wkb(shapely.normalize(edges.geometry.values))
    low = np.minimum(edges["u"].to_numpy(), edges["v"].to_numpy())
    high = np.maximum(edges["u"].to_numpy(), edges["v"].to_numpy())
    keys = pd.Series(list(zip(low, high, normalised, strict=True)))
    keep = oneway | ~keys.duplicated(keep="first").to_numpy()
    kept = edges[keep]
    return gpd.GeoDataFrame(
        {
            "road_class": kept["highway"].to_numpy(dtype=object),
            "name": kept["name"].to_numpy(dtype=object) if "name" in kept else None,
            "oneway": np.where(oneway[keep], "yes", "no"),
        },
        geometry=kept.geometry.values,
        crs="EPSG:4326",
    )


def _truthy(value: object) -> bool:
    if isinstance(value, list | tuple):
        return any(_truthy(item) for item in value)
    return bool(value) and str(value).lower() not in ("false", "no", "0")
