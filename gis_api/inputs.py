"""Input hygiene in one place: text without control characters, numbers of ASCII digits within
bounds, moments within a sane window.

Every request schema, form field, query parameter and hand-written parser (Open311, month strings,
ids in paths) uses these, so a NUL byte, a full-width digit, a 5,000-digit id or the year 9999 gets
a 4xx naming the field instead of a 500 from the database driver, int() or datetime arithmetic.
Pydantic types (`Text`, `Moment`, ...) raise ValueError (FastAPI turns it into a 422); the
`parse_*` helpers for hand parsers raise InvalidInputError.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field

from gis_api.errors import InvalidInputError

# C0 controls except TAB, LF and CR; DEL and the C1 controls; lone surrogates; the two
# noncharacters XML 1.0 forbids. TAB/LF/CR stay: descriptions and notes have several lines.
FORBIDDEN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
ASCII_INTEGER = re.compile(r"[+-]?[0-9]{1,19}")
ASCII_DECIMAL = re.compile(r"[+-]?(?:[0-9]{1,20}(?:\.[0-9]{0,20})?|\.[0-9]{1,20})(?:[eE][+-]?[0-9]{1,3})?")
MAX_ID = 2**63 - 1

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
"""The window every stored or queried moment must fall in: nothing this system records happened
before 2000, and datetime arithmetic near year 1 or 9999 overflows."""


def text_problem(value: str) -> str | None:
    """Why `value` may not be stored (a control character and where), or None when it is clean."""
    found = FORBIDDEN_TEXT.search(value)
    if found is None:
        return None
    return f"contains the control character U+{ord(found.group()):04X} at position {found.start()}"


def check_text(value: str) -> str:
    """Pydantic validator: the text unchanged, or ValueError naming the control character."""
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def clean_text(value: str, name: str) -> str:
    """The hand parsers' check: the text unchanged, or InvalidInputError naming the field."""
    problem = text_problem(value)
    if problem is not None:
        raise InvalidInputError(f"{name} {problem}")
    return value


def printable(value: str) -> str:
    """The text with every forbidden character removed (for output of rows stored before the check)."""
    return FORBIDDEN_TEXT.sub("", value)


Text = Annotated[str, AfterValidator(check_text)]
"""Any text field of a request: no control characters (length limits are added per field)."""


def parse_int(value: str, name: str, low: int = 1, high: int = MAX_ID) -> int:
    """An integer of ASCII digits (at most 19) within [low, high]; InvalidInputError otherwise."""
    text = value.strip()
    if not ASCII_INTEGER.fullmatch(text):
        shown = text[:30] + ("..." if len(text) > 30 else "")
        raise InvalidInputError(f"{name} must be a whole number of ASCII digits, got {shown!r}")
    number = int(text)
    if not low <= number <= high:
        raise InvalidInputError(f"{name} must be between {low} and {high}, got {number}")
    return number


def parse_float(value: str, name: str, low: float, high: float) -> float:
    """A finite decimal number of ASCII digits within [low, high]; InvalidInputError otherwise."""
    text = value.strip()
    if not ASCII_DECIMAL.fullmatch(text):
        shown = text[:30] + ("..." if len(text) > 30 else "")
        raise InvalidInputError(f"{name} must be a decimal number of ASCII digits, got {shown!r}")
    number = float(text)
    if not low <= number <= high:
        raise InvalidInputError(f"{name} must be between {low} and {high}, got {text}")
    return number


def _ascii_number(value: object) -> object:
    """Before pydantic's own parsing: a string number must be ASCII (pydantic accepts the rest)."""
    if isinstance(value, str) and not ASCII_DECIMAL.fullmatch(value.strip()):
        raise ValueError("must be a number written with ASCII digits")
    return value


Id = Annotated[int, BeforeValidator(_ascii_number), Field(gt=0, le=MAX_ID)]
"""A database id: 1 .. 2^63-1."""


def check_moment(value: datetime) -> datetime:
    """Pydantic validator: an aware moment within [EARLIEST, LATEST)."""
    if value.tzinfo is None:
        raise ValueError("needs a time zone, e.g. 2026-11-01T09:00:00+08:00")
    if not EARLIEST <= value < LATEST:
        raise ValueError(
            f"must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}, got {value.isoformat()}"
        )
    return value


Moment = Annotated[AwareDatetime, AfterValidator(check_moment)]
"""A moment of a request: with a time zone, within the sane window."""


def parse_moment(value: str, name: str) -> datetime:
    """An ISO 8601 moment (UTC when no zone is given) within the window; InvalidInputError otherwise."""
    text = clean_text(value.strip(), name)
    if not text.isascii():
        raise InvalidInputError(f"{name} must be an ISO 8601 date-time in ASCII digits, got {text[:40]!r}")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(f"{name} must be an ISO 8601 date-time, got {text[:40]!r}") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    try:
        return check_moment(moment)
    except ValueError as error:
        raise InvalidInputError(f"{name} {error}") from None


FUTURE_SKEW = timedelta(minutes=5)
"""A device clock may run this far ahead; anything later is refused as lying in the future."""


def check_recorded(
    moment: datetime,
    name: str,
    since: datetime | None = None,
    since_what: str = "",
    now: datetime | None = None,
) -> None:
    """Something that happened (a visit, a survey): not in the future, not before `since` (the
    plan it belongs to); InvalidInputError naming the field otherwise."""
    now = now or datetime.now(UTC)
    if moment > now + FUTURE_SKEW:
        raise InvalidInputError(f"{name} {moment.isoformat()} lies in the future; check the device clock")
    if since is not None and moment < since:
        raise InvalidInputError(f"{name} {moment.isoformat()} is before {since_what} ({since.isoformat()})")


def check_year(year: int, name: str) -> int:
    """A calendar year inside the window (for month strings such as 2026-11)."""
    if not EARLIEST.year <= year < LATEST.year:
        raise InvalidInputError(
            f"{name} year must lie between {EARLIEST.year} and {LATEST.year - 1}, got {year}"
        )
    return year
