"""Field positions and household visits of grid workers.

Pings arrive in batches with device timestamps, out of order and re-sent after network trouble:
(member, device time) is unique so duplicates are ignored, and the member's last position is
always the fix with the newest device time ever received, whatever order batches come in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.cases.schemas import PingIn, PingReport, VisitOut
from gis_api.cases.service import Actor, Position, now_utc
from gis_api.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from gis_api.events.publisher import publish
from gis_api.inputs import check_recorded
from gis_api.loaders.chinese_datums import to_wgs84

MAX_CLOCK_SKEW = timedelta(minutes=5)
"""Device times further in the future are refused: they would pin the last position for ever."""

INSERT_PINGS_SQL = """
INSERT INTO position_ping (member_id, device_time, accuracy_m, geom)
SELECT :m, t, a, ST_SetSRID(ST_MakePoint(x, y), 4326)
FROM unnest(CAST(:times AS timestamptz[]), CAST(:accuracy AS real[]),
            CAST(:lons AS float8[]), CAST(:lats AS float8[])) AS p(t, a, x, y)
ON CONFLICT (member_id, device_time) DO NOTHING
RETURNING device_time
"""

MOVE_MEMBER_SQL = """
UPDATE team_member m SET last_position = p.geom, last_seen_at = p.device_time
FROM position_ping p
WHERE m.id = :m AND p.member_id = :m AND p.device_time = :newest
  AND NOT EXISTS (SELECT 1 FROM position_ping q WHERE q.member_id = :m AND q.device_time > :newest)
  AND (m.last_position IS NULL OR NOT ST_Equals(m.last_position, p.geom)
       OR m.last_seen_at IS DISTINCT FROM p.device_time)
RETURNING ST_X(p.geom), ST_Y(p.geom), (SELECT code FROM grid WHERE id = m.home_grid_id), m.status::text
"""

VISIT_HOUSEHOLD_SQL = """
SELECT h.grid_id, g.code, p.valid_from
FROM household h JOIN grid g ON g.id = h.grid_id JOIN plan p ON p.id = g.plan_id WHERE h.id = :h
"""

INSERT_VISIT_SQL = """
INSERT INTO visit (member_id, household_id, grid_id, visited_at, note, satisfaction, geom)
VALUES (:m, :h, :g, :at, :note, :sat,
        CASE WHEN CAST(:x AS float8) IS NULL THEN NULL
             ELSE ST_SetSRID(ST_MakePoint(:x, :y), 4326) END)
ON CONFLICT (member_id, household_id, visited_at) DO NOTHING
RETURNING id
"""


def require_member(actor: Actor) -> int:
    """The team member behind a grid worker's account; 403 for anyone else."""
    if actor.role != "grid_worker":
        raise PermissionDeniedError(f"role {actor.role} does not report positions or visits")
    if actor.member_id is None:
        raise PermissionDeniedError(
            f"account {actor.username} is not linked to a team member; ask an administrator"
        )
    return actor.member_id


def record_pings(
    session: Session, actor: Actor, pings: Sequence[PingIn], crs: str, now: datetime | None = None
) -> PingReport:
    """Store a batch (duplicates skipped) and move the member to the newest fix if it is new."""
    member = require_member(actor)
    now = now or now_utc()
    late = [p.device_time for p in pings if p.device_time > now + MAX_CLOCK_SKEW]
    if late:
        raise InvalidInputError(f"device_time {late[0].isoformat()} lies in the future; check the clock")
    Position.parse(pings[0].lon, pings[0].lat, crs)  # validates the CRS name
    lons, lats = to_wgs84(crs, [p.lon for p in pings], [p.lat for p in pings])  # type: ignore[arg-type]
    session.execute(text("SELECT 1 FROM team_member WHERE id = :m FOR UPDATE"), {"m": member})
    stored = session.execute(
        text(INSERT_PINGS_SQL),
        {
            "m": member,
            "times": [p.device_time for p in pings],
            "accuracy": [p.accuracy_m for p in pings],
            "lons": [float(x) for x in lons],
            "lats": [float(y) for y in lats],
        },
    ).all()
    newest = max(p.device_time for p in pings)
    moved = session.execute(text(MOVE_MEMBER_SQL), {"m": member, "newest": newest}).one_or_none()
    if moved is not None:
        payload = {"member_id": member, "lon": moved[0], "lat": moved[1], "device_time": newest.isoformat()}
        payload["status"] = moved[3]
        publish(session, "position", moved[2] or "", payload, member_id=member)
    return PingReport(
        received=len(pings),
        stored=len(stored),
        duplicates=len(pings) - len(stored),
        last_device_time=newest if moved is not None else None,
        position_changed=moved is not None,
    )


@dataclass(frozen=True)
class VisitInput:
    household_id: int
    visited_at: datetime
    note: str = ""
    satisfaction: int | None = None
    position: Position | None = None


def record_visit(session: Session, actor: Actor, visit: VisitInput) -> VisitOut:
    """A check-in at a household of the worker's own grid (a retry returns the same visit)."""
    member = require_member(actor)
    row = session.execute(text(VISIT_HOUSEHOLD_SQL), {"h": visit.household_id}).one_or_none()
    if row is None or row[1] != actor.scope_code:
        raise NotFoundError(f"household {visit.household_id} not found in your grid")
    check_recorded(visit.visited_at, "visited_at", row[2], "the plan of your grid")
    where = visit.position
    params = {
        "m": member,
        "h": visit.household_id,
        "g": row[0],
        "at": visit.visited_at,
        "note": visit.note,
        "sat": visit.satisfaction,
        "x": where.lon if where else None,
        "y": where.lat if where else None,
    }
    visit_id = session.execute(text(INSERT_VISIT_SQL), params).scalar_one_or_none()
    created = visit_id is not None
    if visit_id is None:
        visit_id = session.execute(
            text("SELECT id FROM visit WHERE member_id = :m AND household_id = :h AND visited_at = :at"),
            params,
        ).scalar_one()
    return VisitOut(
        id=int(visit_id),
        household_id=visit.household_id,
        grid_code=str(row[1]),
        visited_at=visit.visited_at,
        created=created,
    )
