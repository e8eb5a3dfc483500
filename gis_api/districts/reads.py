"""Districts as the API shows them: names for the pages, details and layer provenance per district."""

from __future__ import annotations

from sqlalchemy import text

from gis_api.districts.schemas import DataLayerOut, DistrictOut, DistrictRef
from gis_api.districts.service import NOTICE_LAYERS, Database, list_districts, synthetic_layers

LAYERS_SQL = """
SELECT district_code, layer, synthetic, source, licence, loaded_at FROM data_layer
WHERE district_code LIKE :p ORDER BY district_code, layer
"""
BBOX_SQL = """
SELECT code, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM district WHERE code LIKE :p
"""


def district_refs(db: Database, prefix: str) -> list[DistrictRef]:
    """Code, name, city and demo-data flag of every district under `prefix`."""
    synthetic = synthetic_layers(db, prefix)
    return [
        DistrictRef(
            code=row.code,
            name=row.name,
            city_code=row.city_code,
            city_name=row.city_name,
            demo_data=any(layer in NOTICE_LAYERS for layer in synthetic.get(row.code, [])),
        )
        for row in list_districts(db, prefix)
    ]


def districts_out(db: Database, prefix: str) -> list[DistrictOut]:
    """District details (metric CRS, bbox, every recorded layer) under `prefix`."""
    params = {"p": f"{prefix}%"}
    layers: dict[str, list[DataLayerOut]] = {}
    for row in db.execute(text(LAYERS_SQL), params):
        layers.setdefault(row[0], []).append(DataLayerOut(**dict(row._mapping)))
    bbox = {row[0]: [float(v) for v in row[1:]] for row in db.execute(text(BBOX_SQL), params)}
    rows = {row.code: row for row in list_districts(db, prefix)}
    return [
        DistrictOut(
            **ref.model_dump(),
            metric_crs=rows[ref.code].metric_crs,
            metric_crs_family=rows[ref.code].metric_crs_family,
            bbox=bbox[ref.code],
            layers=layers.get(ref.code, []),
        )
        for ref in district_refs(db, prefix)
    ]
