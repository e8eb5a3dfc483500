"""Team availability: the one function that writes team_member.status.

Dispatch claims a member (available → en_route), the workflow occupies and frees the handler
(on_scene, available), reassignment frees the first member, and a worker sets their own status
from the field app: all of them go through `write_availability`.
"""

from __future__ import annotations

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from gis_api.teams.models import Availability

WRITE_SQL = """
UPDATE team_member SET status = CAST(:status AS availability)
WHERE id = :m AND (CAST(:expected AS availability) IS NULL OR status = CAST(:expected AS availability))
RETURNING id
"""


def write_availability(
    db: Session | Connection,
    member_id: int,
    status: Availability | str,
    *,
    expected: Availability | str | None = None,
) -> bool:
    """Set a member's availability; with `expected`, only if that is the current one (an atomic
    claim). True when the row was written."""
    params: dict[str, object] = {"m": member_id, "status": Availability(status).value}
    params["expected"] = Availability(expected).value if expected is not None else None
    return db.execute(text(WRITE_SQL), params).one_or_none() is not None
