"""What the command modules share: the handler type, error reporting, common options."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from typing import Any

from boundaries.errors import BoundariesError
from gis_api.db.cluster import ClusterError
from gis_api.errors import DomainError

Handler = Callable[[argparse.Namespace], int]

# Errors raised on purpose: their message names the problem, so the user sees one line, exit 1.
KNOWN_ERRORS: tuple[type[Exception], ...] = (DomainError, ClusterError, BoundariesError)


def report_error(error: Exception) -> int:
    """Print an error raised on purpose as one line (no traceback) and return exit status 1.

    An error that carries a worker's traceback (`detail`) shows it too under `wangge -v`."""
    message = " ".join(str(error).split()) or type(error).__name__
    print(f"error: {message}", file=sys.stderr)
    detail = getattr(error, "detail", "")
    if detail and logging.getLogger().isEnabledFor(logging.DEBUG):
        print(detail, file=sys.stderr)
    return 1


def add_serve_options(parser: argparse.ArgumentParser) -> None:
    """--host/--port/--workers/--tls-cert/--tls-key/--forwarded-allow-ips of `serve` and `demo`."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every network)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM; see `wangge tls`)")
    parser.add_argument("--tls-key", help="the certificate's private key (PEM)")
    parser.add_argument(
        "--forwarded-allow-ips",
        default="127.0.0.1",
        help="proxies whose X-Forwarded-For/-Proto are trusted (comma-separated; default the local one)",
    )


def add_district_option(parser: argparse.ArgumentParser) -> None:
    """--district CODE: the district a command acts on (default: the only district loaded)."""
    parser.add_argument(
        "--district", help="6-digit district code (default: the only district; several need this)"
    )


def sub_parser(commands: Any, name: str, handler: Handler, **kwargs: Any) -> argparse.ArgumentParser:
    """Add a sub-command whose arguments run `handler`."""
    parser: argparse.ArgumentParser = commands.add_parser(name, **kwargs)
    parser.set_defaults(handler=handler)
    return parser


def fraction(value: str) -> float:
    """An argument type for shares such as --scale or --household-tolerance: a number in (0, 1]."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0 < number <= 1:
        raise argparse.ArgumentTypeError(f"{value} must lie in (0, 1]")
    return number
