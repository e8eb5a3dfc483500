"""Survey links: '<household>.<period>.<signature>', one per household and assessment quarter.

The link is printed (as a QR code) for the household; whoever holds it may answer that household's
survey for that quarter once. It names no person: only the household number and the period.
"""

from __future__ import annotations

import re

from gis_api.auth.links import LinkSecret, sign, verify
from gis_api.cases.surveys import check_period
from gis_api.errors import NotFoundError

SURVEY_PURPOSE = "household-survey"
TOKEN_PATTERN = re.compile(r"^([1-9][0-9]{0,17})\.([0-9]{4}Q[1-4])\.([A-Za-z0-9_-]{16,64})$")


def survey_token(secret: LinkSecret, household_id: int, period: str) -> str:
    """The survey token of a household for a period."""
    check_period(period)
    message = f"{household_id}:{period}"
    return f"{household_id}.{period}.{sign(secret, SURVEY_PURPOSE, message)}"


def read_survey_token(secret: LinkSecret, token: str) -> tuple[int, str]:
    """(household id, period) of a genuine token; NotFoundError for anything else."""
    match = TOKEN_PATTERN.fullmatch(token)
    if match is None or not verify(secret, SURVEY_PURPOSE, f"{match[1]}:{match[2]}", match[3]):
        raise NotFoundError("this survey link is not valid: check it or ask your community office")
    return int(match[1]), match[2]
