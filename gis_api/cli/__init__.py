"""`wangge` command line: one module per domain, each registering its sub-commands.

A command module exposes `register(commands)` that adds its sub-parsers and sets `handler`;
COMMAND_MODULES lists them in the order `wangge --help` shows them.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from importlib import import_module

from gis_api.cli.common import KNOWN_ERRORS, Handler, report_error

COMMAND_MODULES = (
    "gis_api.cli.database",
    "gis_api.cli.districts",
    "gis_api.cli.data",
    "gis_api.cli.osm",
    "gis_api.cli.serving",
    "gis_api.cli.plans",
    "gis_api.cli.cases",
    "gis_api.cli.kpi",
    "gis_api.cli.users",
    "gis_api.cli.apikeys",
    "gis_api.cli.simulate",
    "gis_api.cli.calendar",
    "gis_api.cli.tls",
    "gis_api.cli.notify",
    "gis_api.cli.workload",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-parser per command."""
    parser = argparse.ArgumentParser(prog="wangge", description="网格 grid management and dispatch GIS")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        import_module(name).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `wangge` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    handler: Handler = args.handler
    try:
        return handler(args)
    except KNOWN_ERRORS as error:
        return report_error(error)


__all__ = ["build_parser", "main"]

if __name__ == "__main__":
    sys.exit(main())
