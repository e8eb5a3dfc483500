"""wangge load KIND FILE and wangge check: bringing data in and checking its integrity."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gis_api.cli.common import add_district_option, sub_parser
from gis_api.errors import InvalidInputError

if TYPE_CHECKING:
    from gis_api.loaders.district_scope import Provenance


def cmd_load(args: argparse.Namespace) -> int:
    """load boundaries|households|buildings|roads|water|parks FILE."""
    from gis_api.db.session import default_engine
    from gis_api.roads import service as roads

    path = Path(args.file)
    report: object
    with default_engine().begin() as connection:
        if args.kind == "roads":
            if args.skip_invalid or args.skip_outside:
                raise InvalidInputError("roads are clipped to the district; --skip-* do not apply to them")
            report = roads.load_roads(
                connection, path, attributes_from=args.attributes_from, crs=args.crs, layer=args.layer,
                district=args.district, provenance=provenance(args),
            )  # fmt: skip
        else:
            report = _load_table(connection, path, args)
    print(report)
    return 0


def provenance(args: argparse.Namespace) -> Provenance:
    """--synthetic/--provenance/--licence as what the load records in the district's data layers."""
    from gis_api.loaders.district_scope import Provenance

    return Provenance(synthetic=args.synthetic, source=args.provenance, licence=args.licence or "")


def _load_table(connection: Any, path: Path, args: argparse.Namespace) -> object:
    """The loaders that write rows of a file (and FILE.rejected.csv with --skip-*)."""
    from gis_api.loaders import areas, households, service

    common = {
        "crs": args.crs, "layer": args.layer, "district": args.district, "provenance": provenance(args),
        "skip_invalid": args.skip_invalid, "skip_outside": args.skip_outside,
    }  # fmt: skip
    if args.kind == "boundaries":
        return service.load_boundaries(
            connection, path, level=args.level, plan_name=args.plan, code_column=args.code_column,
            name_column=args.name_column or "name", parent_code_column=args.parent_code_column,
            code=args.code, name=args.name, city_name=args.city_name, **common,
        )  # fmt: skip
    if args.kind == "households":
        return households.load_households(
            connection, path, id_column=args.id_column or "id", count_column=args.count_column, **common
        )
    if args.kind == "buildings":
        return service.load_buildings(
            connection, path, id_column=args.id_column, source=args.source,
            households_column=args.households_column, name_column=args.name_column, **common,
        )  # fmt: skip
    table: areas.ZoneTable = "water" if args.kind == "water" else "park"
    return areas.load_zones(connection, path, table, id_column=args.id_column, source=args.source, **common)


def cmd_check(args: argparse.Namespace) -> int:
    """Integrity report of a plan; exit 1 when any problem is found."""
    from gis_api.db.session import default_engine
    from gis_api.integrity.service import check_plan

    with default_engine().connect() as connection:
        report = check_plan(connection, args.plan, args.district)
    print(report)
    return 0 if report.ok else 1


def register(commands: Any) -> None:
    load = sub_parser(
        commands,
        "load",
        cmd_load,
        help="load a GeoJSON/Shapefile/GeoPackage/FileGDB/KML/KMZ/CSV/XLSX/OSM file",
    )
    load.add_argument("kind", choices=["boundaries", "households", "buildings", "roads", "water", "parks"])
    load.add_argument("file")
    load.add_argument("--crs", help="source CRS: wgs84, gcj02, bd09 or EPSG:nnnn (default: the file's)")
    load.add_argument("--level", choices=["district", "street", "community", "grid"], default="street")
    load.add_argument("--plan", help="plan name for community/grid boundaries (default: the active plan)")
    load.add_argument("--layer", help="layer of a GeoPackage, FileGDB, KML or OSM file; sheet of an .xlsx")
    load.add_argument("--code-column", default="code")
    load.add_argument(
        "--name-column",
        help="boundaries: the name column (default name); buildings: default name/名称/楼栋名称",
    )
    load.add_argument("--parent-code-column", help="column with the parent area's code")
    load.add_argument("--id-column", help="id column (households: the point's id with --count-column)")
    load.add_argument(
        "--count-column", help="households: each row is a place holding this column's number of households"
    )
    load.add_argument(
        "--households-column",
        help="buildings: column of households per building; creates that many inside each footprint",
    )
    load.add_argument("--source", help="source label of buildings/water/parks (default: the file name)")
    load.add_argument(
        "--skip-invalid",
        action="store_true",
        help="skip invalid rows (bad geometry or coordinates) and write them to FILE.rejected.csv",
    )
    load.add_argument(
        "--skip-outside",
        action="store_true",
        help="skip rows outside the district/grids or in water/parks; write them to FILE.rejected.csv",
    )
    load.add_argument("--attributes-from", help="roads: OSM lines file to copy names and classes from")
    load.add_argument("--code", help="boundaries: the code of a file without a code column (one feature)")
    load.add_argument("--name", help="boundaries: the name of a file without a name column (one feature)")
    load.add_argument("--city-name", help="boundaries --level district: name of a new city, e.g. 武汉市")
    add_provenance_options(load)
    add_district_option(load)

    check = sub_parser(
        commands, "check", cmd_check, help="report gaps, overlaps, orphans, mismatched households"
    )
    check.add_argument("--plan", type=int, help="plan id (default: the district's active plan)")
    add_district_option(check)


def add_provenance_options(parser: argparse.ArgumentParser) -> None:
    """--synthetic, --provenance, --licence: what the district's data layers record for the load."""
    parser.add_argument(
        "--synthetic",
        action="store_true",
        help="the file is generated, not real data: the pages show a demo-data notice for the district",
    )
    parser.add_argument(
        "--provenance", help="where the data comes from, as recorded (default: the file name)"
    )
    parser.add_argument("--licence", help="the data's licence, as recorded, e.g. 'ODbL 1.0' or CC0")
