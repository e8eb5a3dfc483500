"""Errors raised by the redistricting library."""

from __future__ import annotations


class BoundariesError(Exception):
    """Base class for errors raised by the boundaries library."""


class InfeasibleError(BoundariesError):
    """The request cannot be met; the message names the unit or parameter at fault."""


class InputError(BoundariesError):
    """Input data is malformed (wrong shapes, CRS, missing columns)."""
