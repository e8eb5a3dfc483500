"""门牌 codes: what the QR sticker at a household's door says, and the same code typed by hand.

Format (defined here, mirrored in webmap/js/doorcode.js):
    QR payload   WGH1:<household id>-<check>      e.g. WGH1:123456-20
    typed code   <household id>-<check>            e.g. 123456-20
`check` is the two-digit ISO 7064 MOD 97-10 check (as in IBANs): any single wrong digit and any
swap of two adjacent digits is caught, so a mistyped or misread code never names another household.
The code carries no personal data: only the household's number, which the grid worker sees anyway.
"""

from __future__ import annotations

import re

from gis_api.errors import InvalidInputError

QR_PREFIX = "WGH1:"
CODE_PATTERN = re.compile(r"^(?:WGH1:)?\s*([1-9][0-9]{0,18})\s*-\s*([0-9]{2})\s*$", re.IGNORECASE)


def check_digits(household_id: int) -> int:
    """ISO 7064 MOD 97-10 check of the household id (2..98)."""
    return 98 - (household_id * 100) % 97


def door_code(household_id: int) -> str:
    """The typed form, '123456-20'."""
    return f"{household_id}-{check_digits(household_id):02d}"


def qr_payload(household_id: int) -> str:
    """What the door's QR code encodes."""
    return QR_PREFIX + door_code(household_id)


def parse_door_code(text: str) -> int:
    """The household id of a scanned payload or typed code; InvalidInputError if it does not check."""
    match = CODE_PATTERN.match(text.strip())
    if match is None:
        raise InvalidInputError(f"door code {text[:40]!r} must look like 123456-20")
    household_id, check = int(match.group(1)), int(match.group(2))
    if check_digits(household_id) != check:
        raise InvalidInputError(f"door code {text[:40]!r} does not check: mistyped or misread")
    return household_id
