"""Errors raised by the redistricting library."""

from __future__ import annotations


class BoundariesError(Exception):
    """Base class for errors raised by the boundaries library."""


class InfeasibleError(BoundariesError):
    """The request cannot be met; the message names the unit or parameter at fault."""


class InputError(BoundariesError):
    """Input data is malformed (wrong shapes, CRS, missing columns)."""


class SubproblemError(BoundariesError):
    """An unexpected failure inside one subproblem (a library error on odd input), named by its parent.

    The message is one line for the user; `detail` keeps the worker's traceback text for
    developers (`wangge -v`). Both survive pickling, so the error crosses process and Dask workers.
    """

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail

    def __reduce__(self) -> tuple[type[SubproblemError], tuple[str, str]]:
        return (type(self), (str(self), self.detail))


class ExecutorError(BoundariesError):
    """The executor itself failed: a worker process died or the Dask scheduler cannot be reached."""
