"""wangge load KIND FILE and wangge check: bringing data in and checking its integrity."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gis_api.cli.common import add_district_option, sub_parser


def cmd_load(args: argparse.Namespace) -> int:
    """load boundaries|households|buildings|roads FILE."""
    from gis_api.db.session import default_engine
    from gis_api.loaders import service as loaders
    from gis_api.roads import service as roads

    path = Path(args.file)
    engine = default_engine()
    report: object
    common = {"crs": args.crs, "layer": args.layer, "district": args.district}
    with engine.begin() as connection:
        if args.kind == "boundaries":
            report = loaders.load_boundaries(
                connection, path, level=args.level, plan_name=args.plan, skip_invalid=args.skip_invalid,
                code_column=args.code_column, name_column=args.name_column,
                parent_code_column=args.parent_code_column, code=args.code, name=args.name,
                city_name=args.city_name, **common,
            )  # fmt: skip
        elif args.kind == "households":
            report = loaders.load_households(connection, path, id_column=args.id_column or "id", **common)
        elif args.kind == "buildings":
            report = loaders.load_buildings(
                connection, path, id_column=args.id_column, source=args.source,
                skip_invalid=args.skip_invalid, **common,
            )  # fmt: skip
        else:
            report = roads.load_roads(connection, path, attributes_from=args.attributes_from, **common)
    print(report)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Integrity report of a plan; exit 1 when any problem is found."""
    from gis_api.db.session import default_engine
    from gis_api.integrity.service import check_plan

    with default_engine().connect() as connection:
        report = check_plan(connection, args.plan, args.district)
    print(report)
    return 0 if report.ok else 1


def register(commands: Any) -> None:
    load = sub_parser(commands, "load", cmd_load, help="load a GeoJSON/Shapefile/GeoPackage/CSV/OSM file")
    load.add_argument("kind", choices=["boundaries", "households", "buildings", "roads"])
    load.add_argument("file")
    load.add_argument("--crs", help="source CRS: wgs84, gcj02, bd09 or EPSG:nnnn (default: the file's)")
    load.add_argument("--level", choices=["district", "street", "community", "grid"], default="street")
    load.add_argument("--plan", help="plan name for community/grid boundaries (default: the active plan)")
    load.add_argument("--layer", help="layer of a GeoPackage or OSM file")
    load.add_argument("--code-column", default="code")
    load.add_argument("--name-column", default="name")
    load.add_argument("--parent-code-column", help="column with the parent area's code")
    load.add_argument("--id-column", help="household/building id column")
    load.add_argument("--source", help="source label of buildings (default: the file name)")
    load.add_argument(
        "--skip-invalid", action="store_true", help="skip unrepairable features instead of failing"
    )
    load.add_argument("--attributes-from", help="roads: OSM lines file to copy names and classes from")
    load.add_argument("--code", help="boundaries: the code of a file without a code column (one feature)")
    load.add_argument("--name", help="boundaries: the name of a file without a name column (one feature)")
    load.add_argument("--city-name", help="boundaries --level district: name of a new city, e.g. 武汉市")
    add_district_option(load)

    check = sub_parser(
        commands, "check", cmd_check, help="report gaps, overlaps, orphans, mismatched households"
    )
    check.add_argument("--plan", type=int, help="plan id (default: the district's active plan)")
    add_district_option(check)
