"""Dispatch (派遣): the nearest AVAILABLE responsible team member by road, explained and stored.

Candidates are the team members whose role may handle the category and whose home grid is the case's
grid; when none is free, the other grids of its community, then the whole street. One reverse search
over the road graph ranks every candidate; the explanation keeps the ranked list with ETAs and says
whether straight-line distance would have picked someone else. The case row is locked first, so of
many concurrent dispatches of one case exactly one succeeds and the rest get ConflictError (409).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.auth.scope import DISTRICT_CODE_LENGTH
from gis_api.cases.calendar import WorkingCalendar, default_calendar
from gis_api.cases.categories import Category, CategoryCatalog, default_catalog
from gis_api.cases.deadlines import next_clock
from gis_api.cases.models import Case
from gis_api.cases.service import (
    Actor,
    apply_step,
    case_lonlat,
    clock_of,
    lock_case,
    log_event,
    now_utc,
    snapshot,
)
from gis_api.cases.workflow import OPERATORS, Action, State, apply
from gis_api.errors import ConflictError, NotFoundError, PermissionDeniedError
from gis_api.members.availability import write_availability
from gis_api.routing.engine import GraphLookup, RoadGraph, graph_lookup

TIERS = ("grid", "community", "street")
EXPLAINED_PER_TIER = 20
"""The explanation lists at most this many ranked candidates of each tier (the JSON stays small)."""

CANDIDATES_SQL = """
SELECT m.id, m.name, m.role::text, ST_X(m.last_position), ST_Y(m.last_position),
       CASE WHEN g.code = :grid THEN 0 WHEN g.code LIKE :community || '%' THEN 1 ELSE 2 END AS tier,
       g.code
FROM team_member m JOIN grid g ON g.id = m.home_grid_id
WHERE m.status = 'available' AND m.last_position IS NOT NULL
  AND m.role::text = ANY(:roles) AND g.code LIKE :street || '%'
ORDER BY m.id
"""


@dataclass(frozen=True)
class Candidate:
    member_id: int
    name: str
    role: str
    lon: float
    lat: float
    tier: int


@dataclass(frozen=True)
class DispatchDecision:
    """The dispatched case, the chosen member and the stored explanation."""

    case: Case
    member_id: int
    explanation: dict[str, Any]

    def __str__(self) -> str:
        chosen = self.explanation["chosen"]
        eta = chosen.get("travel_time_s")
        eta_text = f"{eta / 60:.1f} min by road" if eta is not None else "no road route"
        return f"case {self.case.id} -> member {self.member_id} ({chosen['tier']}, {eta_text})"


def dispatch_case(
    session: Session,
    case_id: int,
    actor: Actor,
    *,
    now: datetime | None = None,
    graph: RoadGraph | GraphLookup | None = None,
    catalog: CategoryCatalog | None = None,
    calendar: WorkingCalendar | None = None,
    note: str = "",
) -> DispatchDecision:
    """Assign the case to the nearest available responsible member by road and log the decision.

    `graph`: the road graph to use, or a lookup by district; by default the process-wide graph of
    the case's district (the district is the grid code's 6-digit prefix)."""
    catalog, calendar, now = catalog or default_catalog(), calendar or default_calendar(), now or now_utc()
    case = lock_case(session, case_id, actor)
    step = apply(snapshot(case, catalog), Action.DISPATCH, actor.role, catalog.policy, now=now)
    category = catalog.get(case.category_code)
    candidates = _candidates(session, case, category, actor)
    if not candidates:
        raise ConflictError(
            f"no available team member of your area who may handle {category.code} in grid "
            f"{case.grid_code}, community {case.community_code} or street {case.street_code}"
        )
    ranking = rank(graph_of_case(session, case, graph), case_lonlat(case), candidates)
    member_id = _claim_first(session, ranking)
    explanation = explain(ranking, member_id, catalog.version)
    case.assigned_member_id = member_id
    case.dispatch_explanation = explanation
    apply_step(session, case, step, next_clock(step, clock_of(case), category, calendar, now), now)
    details = {"member_id": member_id, "tier": explanation["chosen"]["tier"]}
    details["travel_time_s"] = explanation["chosen"]["travel_time_s"]
    log_event(
        session,
        case,
        actor,
        Action.DISPATCH.value,
        step.from_state,
        step.to_state,
        now,
        note,
        details=details,
    )
    return DispatchDecision(case, member_id, explanation)


def graph_of_case(session: Session, case: Case, graph: RoadGraph | GraphLookup | None) -> RoadGraph:
    """The road graph of the case's district."""
    if isinstance(graph, RoadGraph):
        return graph
    district = case.grid_code[:DISTRICT_CODE_LENGTH]
    lookup = graph if graph is not None else graph_lookup(session.get_bind().engine)
    return lookup(district)


def _candidates(session: Session, case: Case, category: Category, actor: Actor) -> list[Candidate]:
    """Available members of the case's street who may handle the category, homed in the actor's
    area: an operator dispatches only members of their own area (a city operator: of the city)."""
    rows = session.execute(
        text(CANDIDATES_SQL),
        {
            "grid": case.grid_code,
            "community": case.community_code,
            "street": case.street_code,
            "roles": sorted(category.roles),
        },
    ).all()
    mine = [r for r in rows if actor.covers_area(str(r[6]))]
    return [Candidate(int(r[0]), r[1], r[2], float(r[3]), float(r[4]), int(r[5])) for r in mine]


@dataclass(frozen=True)
class Ranking:
    """Candidates in dispatch order with their road ETAs (inf: unreachable) and straight lines."""

    method: str
    candidates: list[Candidate]
    travel_time_s: list[float]
    straight_line_m: list[float]


def rank(graph: RoadGraph, incident: tuple[float, float], candidates: list[Candidate]) -> Ranking:
    """Order by tier, then reachable-by-road first, then road time (straight line breaks ties).

    Without a road network the order falls back to straight-line distance and says so.
    """
    positions = np.array([(c.lon, c.lat) for c in candidates])
    tiers = np.array([c.tier for c in candidates])
    if graph.is_empty:
        straight = _straight_line_m(incident, positions)
        times = np.full(len(candidates), np.inf)
        method = "straight_line (no road network loaded)"
    else:
        member_ids = [c.member_id for c in candidates]
        times, straight, _ = graph.search_to(incident).travel_times(positions, member_ids)
        method = "road"
    order = np.lexsort((straight, times, ~np.isfinite(times), tiers))
    return Ranking(
        method,
        [candidates[i] for i in order],
        [float(times[i]) for i in order],
        [float(straight[i]) for i in order],
    )


def _straight_line_m(incident: tuple[float, float], positions: np.ndarray) -> np.ndarray:
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    count = len(positions)
    _, _, metres = geod.inv(
        np.full(count, incident[0]), np.full(count, incident[1]), positions[:, 0], positions[:, 1]
    )
    return np.asarray(metres)


def _claim_first(session: Session, ranking: Ranking) -> int:
    """Mark the best candidate still available as en route (skipping anyone taken meanwhile)."""
    for candidate in ranking.candidates:
        if write_availability(session, candidate.member_id, "en_route", expected="available"):
            return candidate.member_id
    raise ConflictError("every candidate was assigned elsewhere while dispatching; retry")


def explain(ranking: Ranking, member_id: int, categories_version: str) -> dict[str, Any]:
    """The stored explanation: ranked candidates per tier and the straight-line counterfactual."""
    entries = [
        {
            "member_id": c.member_id,
            "name": c.name,
            "role": c.role,
            "tier": TIERS[c.tier],
            "travel_time_s": round(t, 1) if np.isfinite(t) else None,
            "straight_line_m": round(s, 1),
        }
        for c, t, s in zip(ranking.candidates, ranking.travel_time_s, ranking.straight_line_m, strict=True)
    ]
    chosen_at = next(i for i, c in enumerate(ranking.candidates) if c.member_id == member_id)
    chosen = entries[chosen_at]
    tier = ranking.candidates[chosen_at].tier
    same_tier = [i for i, c in enumerate(ranking.candidates) if c.tier == tier]
    by_line = ranking.candidates[min(same_tier, key=lambda i: ranking.straight_line_m[i])].member_id
    shown = [e for tier in TIERS for e in [x for x in entries if x["tier"] == tier][:EXPLAINED_PER_TIER]]
    return {
        "method": ranking.method,
        "categories_version": categories_version,
        "chosen": chosen,
        "candidates": shown,
        "candidate_count": len(entries),
        "straight_line_choice": by_line,
        "straight_line_differs": by_line != member_id,
    }


MEMBER_SQL = """
SELECT m.role::text, g.code FROM team_member m JOIN grid g ON g.id = m.home_grid_id WHERE m.id = :m
"""


def reassign_case(
    session: Session,
    case_id: int,
    actor: Actor,
    member_id: int,
    *,
    now: datetime | None = None,
    catalog: CategoryCatalog | None = None,
    note: str = "",
) -> Case:
    """Hand a dispatched (not yet started) case to another available member of its street."""
    catalog, now = catalog or default_catalog(), now or now_utc()
    if actor.role not in OPERATORS:
        raise PermissionDeniedError(f"role {actor.role} may not reassign a case")
    case = lock_case(session, case_id, actor)
    if case.state != State.DISPATCHED.value:
        raise ConflictError(f"cannot reassign a case that is {case.state}: only a dispatched one")
    if member_id == case.assigned_member_id:
        raise ConflictError(f"case {case.id} is already assigned to member {member_id}")
    row = session.execute(text(MEMBER_SQL), {"m": member_id}).one_or_none()
    if row is None or not str(row[1]).startswith(case.street_code):
        raise NotFoundError(f"team member {member_id} not found in street {case.street_code}")
    if not actor.covers_area(str(row[1])):
        raise PermissionDeniedError(
            f"team member {member_id} works outside your area {actor.scope_code}: you may not assign them"
        )
    category = catalog.get(case.category_code)
    if row[0] not in category.roles:
        raise ConflictError(f"a {row[0]} may not handle {category.code} ({category.name})")
    _claim_first(session, Ranking("manual", [Candidate(member_id, "", row[0], 0, 0, 0)], [0.0], [0.0]))
    previous = case.assigned_member_id
    if previous is not None:
        write_availability(session, previous, "available")
    case.assigned_member_id, case.updated_at = member_id, now
    details = {"from_member_id": previous, "member_id": member_id}
    dispatched = State.DISPATCHED
    log_event(session, case, actor, "reassign", dispatched, dispatched, now, note, details=details)
    return case
