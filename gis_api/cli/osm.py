"""wangge osm import FILE [--district CODE]: one OSM extract into roads, buildings, water and parks."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gis_api.cli.common import add_district_option, sub_parser


def cmd_osm_import(args: argparse.Namespace) -> int:
    """Import an .osm/.osm.pbf extract for one loaded district (one transaction)."""
    from gis_api.db.session import default_engine
    from gis_api.loaders.osm_import import import_osm

    with default_engine().begin() as connection:
        report = import_osm(
            connection,
            Path(args.file),
            district_code=args.district,
            buffer_m=args.buffer_m,
            snap_tolerance_m=args.snap_tolerance_m,
            licence=args.licence,
        )
    print(report)
    return 0


def register(commands: Any) -> None:
    from gis_api.loaders.osm_import import DEFAULT_BUFFER_M, OSM_LICENCE

    osm = commands.add_parser("osm", help="OpenStreetMap extracts")
    actions = osm.add_subparsers(dest="osm_command", required=True)
    imported = sub_parser(
        actions,
        "import",
        cmd_osm_import,
        help="load roads (drive network), buildings, water and parks of an .osm/.osm.pbf for a district",
    )
    imported.add_argument("file", help=".osm or .osm.pbf extract covering the district (and some margin)")
    add_district_option(imported)
    imported.add_argument(
        "--buffer-m",
        type=float,
        default=DEFAULT_BUFFER_M,
        help=f"metres of road kept beyond the outline, so the network stays whole ({DEFAULT_BUFFER_M:g})",
    )
    imported.add_argument(
        "--snap-tolerance-m", type=float, default=1.0, help="road endpoints this close join"
    )
    imported.add_argument(
        "--licence", default=OSM_LICENCE, help=f"licence recorded for the layers ({OSM_LICENCE})"
    )
