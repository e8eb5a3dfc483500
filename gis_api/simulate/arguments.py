"""Parsing of `wangge simulate` arguments (kept apart so the CLI module stays a thin table)."""

from __future__ import annotations

import argparse
import math
from datetime import datetime

FOREVER = "forever"


def minutes(value: str) -> float:
    """A positive number of simulated minutes, or 'forever' (infinity)."""
    if value.strip().lower() == FOREVER:
        return math.inf
    return _positive(value, "minutes", f"a number of minutes or '{FOREVER}'")


def positive(value: str) -> float:
    """A positive, finite or infinite, number ('inf' runs the simulation as fast as it can)."""
    return _positive(value, "value", "a number greater than 0")


def start_time(value: str) -> datetime:
    """An ISO time with a zone, such as 2026-03-02T09:00+08:00."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an ISO time such as 2026-03-02T09:00+08:00"
        ) from None
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{value!r} lacks a time zone, e.g. +08:00")
    return parsed


def _positive(value: str, name: str, expected: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{name} {value!r} is not {expected}") from None
    if math.isnan(number) or number <= 0:
        raise argparse.ArgumentTypeError(f"{name} {value!r} is not {expected}")
    return number
