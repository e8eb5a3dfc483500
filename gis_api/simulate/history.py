"""A case history in bulk: months of cases at a city's published rate, for benchmarks and load tests.

`wangge simulate` drives each case through the real workflow, a few per second; a city's command
centre must stay fast over months of cases, so this writes them with COPY instead: cases at
households of the active plans (categories by their catalogue weights), created uniformly over the
period, each moved along the normal path (report → accept → register → dispatch → start → dispose
→ verify → close) by stage durations drawn around a quarter of the stage's time limit, with one
event per step. Cases still inside their path at the end of the period stay open (overdue when a
stage ran past its limit), VOID_SHARE are voided at acceptance, RATED_SHARE of closed cases carry a
rating. Time limits count a working hour as WALL_HOURS_PER_WORKING_HOUR wall-clock hours (an
8-hour working day), an approximation of the working calendar that keeps bulk generation fast.
Rate: WUHAN_CASES_PER_MONTH, the city's monthly case volume from all sources (武汉信息年鉴 2013:
数字化城管系统平均每月受理 ... 问题达19万件).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from gis_api.cases.categories import CategoryCatalog, default_catalog
from gis_api.cases.kpi_store import kpi_deferred
from gis_api.cases.workflow import State
from gis_api.db.bulk_load import indexes_deferred
from gis_api.errors import InvalidInputError
from gis_api.loaders.bulk import copy_frame

WUHAN_CASES_PER_MONTH = 190_000
WUHAN_HOUSEHOLDS = 4_990_494
"""The generated city's households (12,326,518 residents / 2.47), to scale the rate to a database."""
WALL_HOURS_PER_WORKING_HOUR = 3.0
DURATION_MEDIAN_SHARE = 0.25
DURATION_SIGMA = 0.6
VOID_SHARE = 0.02
RATED_SHARE = 0.3
PATH = (
    # (action, from state, to state, stage whose clock runs in the from state)
    ("accept", State.REPORTED, State.ACCEPTED, "accept"),
    ("register", State.ACCEPTED, State.REGISTERED, "register"),
    ("dispatch", State.REGISTERED, State.DISPATCHED, "dispatch"),
    ("start", State.DISPATCHED, State.IN_PROGRESS, "dispose"),
    ("dispose", State.IN_PROGRESS, State.DISPOSED, "dispose"),
    ("verify", State.DISPOSED, State.VERIFIED, "verify"),
    ("close", State.VERIFIED, State.CLOSED, "close"),
)
OPERATOR, WORKER = "district_operator", "grid_worker"
ROLE_OF = {"accept": OPERATOR, "register": OPERATOR, "dispatch": OPERATOR, "start": WORKER,
           "dispose": WORKER, "verify": WORKER, "close": OPERATOR}  # fmt: skip
SITES_SQL = """
SELECT h.id, ST_X(h.geom), ST_Y(h.geom), g.id, g.code, g.community_code, g.street_code, w.member
FROM household h JOIN active_grid g ON g.id = h.grid_id
LEFT JOIN (SELECT home_grid_id, min(id) AS member FROM team_member WHERE role = 'grid_worker'
           GROUP BY home_grid_id) w ON w.home_grid_id = g.id
WHERE h.id = ANY(CAST(:ids AS bigint[])) AND g.code LIKE :prefix
"""
Progress = Callable[[str], None]


@dataclass(frozen=True)
class HistoryReport:
    """How many cases and events were written, and how many are open and overdue now."""

    cases: int
    events: int
    open: int
    overdue: int

    def __str__(self) -> str:
        return f"{self.cases:,} cases ({self.open:,} open, {self.overdue:,} overdue), {self.events:,} events"


def monthly_cases(households: int) -> float:
    """Cases a month for this many households at Wuhan's rate."""
    return WUHAN_CASES_PER_MONTH * households / WUHAN_HOUSEHOLDS


def case_sites(connection: Connection, count: int, prefix: str, rng: np.random.Generator) -> pd.DataFrame:
    """`count` households (with replacement) of the active plans under `prefix`, with their grid."""
    low, high = connection.execute(text("SELECT min(id), max(id) FROM household")).one()
    if low is None:
        raise InvalidInputError("no households are loaded: load a district first")
    frames, found = [], 0
    while found < count:
        ids = np.unique(rng.integers(int(low), int(high) + 1, size=int((count - found) * 1.2) + 100))
        rows = connection.execute(text(SITES_SQL), {"ids": ids.tolist(), "prefix": prefix + "%"}).all()
        if not rows and found == 0:
            raise InvalidInputError(f"no household of an active plan lies under {prefix}")
        frames.append(pd.DataFrame(rows, columns=["household", "lon", "lat", "grid_id", "grid_code",
                                                  "community_code", "street_code", "member"]))  # fmt: skip
        found += len(rows)
    sites = pd.concat(frames, ignore_index=True)
    return sites.iloc[rng.permutation(len(sites))[:count]].reset_index(drop=True)


def stage_allowance_h(catalog: CategoryCatalog, codes: np.ndarray, stage: str) -> np.ndarray:
    """Wall-clock hours each case may spend in `stage`."""
    hours = {code: category.stage_hours for code, category in catalog.categories.items()}
    return np.array([hours[code][stage] for code in codes]) * WALL_HOURS_PER_WORKING_HOUR  # type: ignore[index]


def write_history(
    connection: Connection,
    *,
    prefix: str,
    days: float,
    cases: int,
    now: datetime,
    rng: np.random.Generator,
    progress: Progress | None = None,
) -> HistoryReport:
    """Append `cases` cases created over the `days` before `now` under area `prefix` (a city or
    district code), with their events, in the caller's transaction."""
    say = progress or (lambda _message: None)
    if cases <= 0 or days <= 0:
        raise InvalidInputError("a case history needs a positive number of cases and days")
    catalog = default_catalog()
    codes = list(catalog.categories)
    weights = np.array([catalog.categories[code].weight for code in codes], dtype=float)
    sites = case_sites(connection, cases, prefix, rng)
    say(f"[history] {cases:,} case sites drawn")
    category = np.asarray(codes, dtype=object)[rng.choice(len(codes), size=cases, p=weights / weights.sum())]
    created = np.sort(rng.uniform(-days * 24.0, 0.0, size=cases))  # hours before now
    timeline = case_timelines(catalog, category, created, rng)
    first_id = int(connection.execute(text("SELECT coalesce(max(id), 0) + 1 FROM incident")).scalar_one())
    incidents = incident_frame(sites, category, catalog.version, timeline, now, first_id, rng)
    events = event_frame(timeline, incidents, now)
    # the KPI tallies of the new cases are computed once at the end, after the indexes are back
    with kpi_deferred(connection, first_id), indexes_deferred(connection, ["case_event"]):
        copy_frame(connection, "incident", incidents)
        say(f"[history] {len(incidents):,} cases stored")
        copy_frame(connection, "case_event", events)
        say(f"[history] {len(events):,} events stored")
    connection.execute(text("SELECT setval('incident_id_seq', (SELECT max(id) FROM incident))"))
    is_open = ~incidents["state"].isin([State.CLOSED.value, State.VOID.value]).to_numpy()
    overdue = is_open & (np.nan_to_num(timeline.deadline_h, nan=1.0) < 0)
    return HistoryReport(len(incidents), len(events), int(is_open.sum()), int(overdue.sum()))


@dataclass(frozen=True)
class Timeline:
    """Per case, in hours relative to now (negative: past): when it was reported and when each
    step of PATH was taken (nan: not reached), each started stage's deadline, the steps taken and
    whether it was voided."""

    step_h: np.ndarray  # (cases, len(PATH) + 1): the report, then each step
    due_h: np.ndarray  # (cases, len(PATH)): deadline of the stage each step ends (nan: not started)
    steps: np.ndarray
    void: np.ndarray

    @property
    def deadline_h(self) -> np.ndarray:
        """The open stage's deadline (nan for closed and void cases)."""
        last = np.minimum(self.steps, len(PATH) - 1)
        current = self.due_h[np.arange(self.steps.size), last]
        return np.where((self.steps == len(PATH)) | self.void, np.nan, current)


def case_timelines(
    catalog: CategoryCatalog, category: np.ndarray, created: np.ndarray, rng: np.random.Generator
) -> Timeline:
    """Walk every case along PATH until the next step would lie in the future."""
    cases = created.size
    step_h = np.full((cases, len(PATH) + 1), np.nan)
    step_h[:, 0] = created
    due_h = np.full((cases, len(PATH)), np.nan)
    steps = np.zeros(cases, dtype=np.int64)
    at, alive = created.copy(), np.ones(cases, dtype=bool)
    for index, (_, _, _, stage) in enumerate(PATH):
        allowance = stage_allowance_h(catalog, category, stage)
        due_h[alive, index] = at[alive] + allowance[alive]
        spent = allowance * DURATION_MEDIAN_SHARE * rng.lognormal(0.0, DURATION_SIGMA, cases)
        alive &= at + spent <= 0.0
        at = np.where(alive, at + spent, at)
        step_h[alive, index + 1] = at[alive]
        steps[alive] += 1
    void = (rng.random(cases) < VOID_SHARE) & (steps >= 1)
    steps[void] = 1
    step_h[void, 2:] = np.nan
    due_h[void, 1:] = np.nan
    return Timeline(step_h, due_h, steps, void)


def deadline_json(now: datetime, due_h: np.ndarray) -> list[str]:
    """The `deadlines` column: {stage: ISO time} of every stage started."""
    columns = [stamps(now, due_h[:, index]) for index in range(len(PATH))]
    names = [stage for _, _, _, stage in PATH]
    rows = []
    for values in zip(*columns, strict=True):
        found = {name: value for name, value in zip(names, values, strict=True) if value is not None}
        rows.append(json.dumps(found))
    return rows


def incident_frame(
    sites: pd.DataFrame,
    category: np.ndarray,
    version: str,
    timeline: Timeline,
    now: datetime,
    first_id: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """incident rows for COPY."""
    cases = len(sites)
    states = np.array([State.REPORTED.value] + [to.value for _, _, to, _ in PATH], dtype=object)[
        timeline.steps
    ]
    states[timeline.void] = State.VOID.value
    closed = states == State.CLOSED.value
    stage_names = np.array([stage for _, _, _, stage in PATH] + [None], dtype=object)[timeline.steps]
    stage_names[timeline.void] = None
    last = np.nanmax(timeline.step_h, axis=1)
    rating = np.where(closed & (rng.random(cases) < RATED_SHARE), rng.integers(3, 6, cases), 0)
    members = sites["member"].to_numpy(dtype=object)
    return pd.DataFrame(
        {
            "id": np.arange(first_id, first_id + cases),
            "category_code": category,
            "categories_version": version,
            "state": states,
            "grid_id": sites["grid_id"].to_numpy(),
            "grid_code": sites["grid_code"].to_numpy(),
            "community_code": sites["community_code"].to_numpy(),
            "street_code": sites["street_code"].to_numpy(),
            "geom": [f"SRID=4326;POINT({x} {y})" for x, y in zip(sites["lon"], sites["lat"], strict=True)],
            "reporter": "history",
            "source": np.where(rng.random(cases) < 0.7, "patrol", "api"),
            "created_at": stamps(now, timeline.step_h[:, 0]),
            "updated_at": stamps(now, last),
            "stage": stage_names,
            "stage_deadline": stamps(now, timeline.deadline_h),
            "deadlines": deadline_json(now, timeline.due_h),
            "assigned_member_id": nullable_ints(members, timeline.steps >= 3),
            "closed_at": stamps(now, np.where(closed, last, np.nan)),
            "rating": nullable_ints(rating, rating > 0),
        }
    )


def nullable_ints(values: np.ndarray, keep: np.ndarray) -> pd.Series:
    """Integers where `keep` (and the value is known), NULL elsewhere."""
    series = pd.Series(pd.array(pd.Series(values, dtype=object).where(keep), dtype="Int64"))
    return series


def event_frame(timeline: Timeline, incidents: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """case_event rows for COPY: the report, then one row per step taken (void: accept → void)."""
    ids = incidents["id"].to_numpy()
    frames = [_events(ids, timeline.step_h[:, 0], "report", None, State.REPORTED.value, "grid_worker", now)]
    for index, (action, source, target, _) in enumerate(PATH):
        reached = ~np.isnan(timeline.step_h[:, index + 1])
        if index == 0:
            reached &= ~timeline.void
        frames.append(
            _events(ids[reached], timeline.step_h[reached, index + 1], action, source.value, target.value,
                    ROLE_OF[action], now)
        )  # fmt: skip
    void = timeline.void
    frames.append(_events(ids[void], timeline.step_h[void, 1], "void", State.REPORTED.value, State.VOID.value,
                          "district_operator", now))  # fmt: skip
    events = pd.concat(frames, ignore_index=True)
    return events.sort_values(["at", "case_id"], kind="stable", ignore_index=True)


def _events(
    ids: np.ndarray, hours: np.ndarray, action: str, source: str | None, target: str, role: str, now: datetime
) -> pd.DataFrame:
    return pd.DataFrame(
        {"case_id": ids, "at": stamps(now, hours), "actor": "history", "role": role, "action": action,
         "from_state": source, "to_state": target}
    )  # fmt: skip


def stamps(now: datetime, hours: np.ndarray) -> list[str | None]:
    """ISO timestamps `hours` from now (None for nan)."""
    base = np.datetime64(now.replace(tzinfo=None).isoformat(), "ms")
    offset = now.utcoffset() or timedelta(0)
    values = base + (np.nan_to_num(hours) * 3_600_000).astype("timedelta64[ms]")
    suffix = _zone(offset)
    return [None if np.isnan(h) else f"{v}{suffix}" for v, h in zip(values.astype(str), hours, strict=True)]


def _zone(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
