"""wangge district add|list: cities and districts as data."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gis_api.cli.common import sub_parser


def cmd_district(args: argparse.Namespace) -> int:
    """district add CODE --name NAME --outline FILE [...] | district list."""
    from gis_api.db.session import default_engine
    from gis_api.districts import service

    with default_engine().begin() as connection:
        if args.action == "list":
            print("\n".join(str(row) for row in service.list_districts(connection)) or "no districts")
            return 0
        _require_add_arguments(args)
        service.check_code_and_name(args.code, args.name)
        outline = service.read_outline(Path(args.outline), args.crs)
        added = service.add_district(
            connection, args.code, args.name, outline, metric_crs=args.metric_crs, city_name=args.city_name,
            source=Path(args.outline).name,
        )  # fmt: skip
    print(added)
    return 0


def _require_add_arguments(args: argparse.Namespace) -> None:
    from gis_api.errors import InvalidInputError

    given = {"CODE": args.code, "--name": args.name, "--outline": args.outline}
    missing = [option for option, value in given.items() if not value]
    if missing:
        raise InvalidInputError(f"district add needs {', '.join(missing)}")


def register(commands: Any) -> None:
    district = sub_parser(commands, "district", cmd_district, help="add or list districts (and their cities)")
    district.add_argument("action", choices=["add", "list"])
    district.add_argument("code", nargs="?", help="6-digit district code (GB/T 2260), e.g. 420106")
    district.add_argument("--name", help="district name, e.g. 武昌区")
    district.add_argument(
        "--outline", help="outline file: GeoJSON, Shapefile, GeoPackage, KML... (parts are merged)"
    )
    district.add_argument(
        "--crs", help="datum of the outline: wgs84, gcj02, bd09 or EPSG:n (default: the file's)"
    )
    district.add_argument(
        "--metric-crs", help="EPSG:n for metres in this district (default: chosen from its location)"
    )
    district.add_argument("--city-name", help="name of the city (4-digit prefix) when it is new, e.g. 武汉市")
