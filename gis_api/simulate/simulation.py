"""The simulated district: residents, operators and field workers acting through the case services.

Each case follows the digital city management loop — reported (patrol, api or open311), accepted,
registered, dispatched to the nearest available member by road (the real dispatch_case), ridden to
along the road route with position pings, handled, disposed, verified and closed — with a few
extensions, reworks, on-the-spot fixes and supervisions. Every step is one transaction through the
same service function the API calls, so live events reach the SSE stream as they would in practice.
A step that fails (say an operator handled the case by hand meanwhile) is logged and the simulation
lets that case go rather than fight a person for it.
"""

from __future__ import annotations

import logging
import math
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.cases.calendar import WorkingCalendar, default_calendar
from gis_api.cases.categories import CategoryCatalog, default_catalog
from gis_api.cases.dispatch import dispatch_case
from gis_api.cases.pings import record_pings
from gis_api.cases.schemas import PingIn
from gis_api.cases.service import Actor, create_case, now_utc, transition_case
from gis_api.errors import DomainError, InvalidInputError, OutOfDistrictError
from gis_api.open311.service import RESIDENT
from gis_api.routing.engine import RoadGraph
from gis_api.simulate.behaviour import Behaviour, CasePlan, draw
from gis_api.simulate.households import HouseholdSampler
from gis_api.simulate.loop import EventLoop
from gis_api.simulate.path import RoutePath

log = logging.getLogger(__name__)
T = TypeVar("T")
SessionFactory = Callable[[], Session]
Progress = Callable[[str], None]

POSITION_ATTEMPTS = 20
"""Draws near households before giving up on an arrival (a draw may fall just outside the district)."""
PING_ACCURACY_M = 5.0
POSITION_SQL = "SELECT ST_X(last_position), ST_Y(last_position) FROM team_member WHERE id = :m"


@dataclass(frozen=True)
class SimulationOptions:
    """What to simulate: report rate (per simulated minute), duration, pace and seed."""

    rate_per_min: float = 2.0
    minutes: float = math.inf
    speed: float = 1.0
    seed: int = 0
    ping_interval_s: float = 5.0
    progress_every: int = 50
    start: datetime | None = None
    """Simulated time of the first moment (None: now); later stamps run `speed` times faster."""
    behaviour: Behaviour = field(default_factory=Behaviour)
    photo_refs: tuple[str, ...] = ()
    """Media refs attached to disposals whose category needs a photo (photo_on_dispose)."""
    district: str = ""
    """The district simulated (its code): cases elsewhere are not reported; '' = anywhere."""

    def check(self) -> None:
        """InvalidInputError naming the first value that cannot work."""
        positive = {
            "rate": self.rate_per_min,
            "minutes": self.minutes,
            "speed": self.speed,
            "ping interval": self.ping_interval_s,
            "progress interval": self.progress_every,
        }
        for name, value in positive.items():
            if not value > 0:
                raise InvalidInputError(f"{name} must be greater than 0, got {value}")
        if self.start is not None and self.start.tzinfo is None:
            raise InvalidInputError("the start time needs a time zone, e.g. 2026-03-02T09:00+08:00")


class SimulationActors:
    """One simulation actor per role, so the case log says who did what."""

    dispatcher = Actor("sim-dispatcher", "district_operator")
    street = Actor("sim-street-operator", "street_operator")
    community = Actor("sim-community-operator", "community_operator")
    patrol = Actor("sim-patrol", "grid_worker")
    api = Actor("sim-hotline", "district_operator")
    resident = RESIDENT

    def reporter(self, source: str) -> Actor:
        return {"patrol": self.patrol, "api": self.api, "open311": self.resident}[source]

    @staticmethod
    def worker(member_id: int) -> Actor:
        return Actor(f"sim-worker-{member_id}", "grid_worker", member_id=member_id)


@dataclass
class SimCase:
    """The simulation's view of one case it reported."""

    number: int
    case_id: int
    category_code: str
    lon: float
    lat: float
    plan: CasePlan
    state: str = "reported"
    member_id: int | None = None
    dispatch_attempts: int = 0
    reworked: bool = False


@dataclass
class Job:
    case: SimCase
    rework: bool


@dataclass
class Worker:
    """A team member the simulation moves: current position, route and queued jobs."""

    member_id: int
    actor: Actor
    lon: float
    lat: float
    speed_mps: float
    jobs: deque[Job] = field(default_factory=deque)
    job: Job | None = None
    path: RoutePath | None = None
    departed_s: float = 0.0


@dataclass
class SimulationStats:
    reported: int = 0
    closed: int = 0
    self_disposed: int = 0
    dispatched: int = 0
    arrivals: int = 0
    extensions: int = 0
    reworks: int = 0
    supervised: int = 0
    pings: int = 0
    transitions: int = 0
    failed_steps: int = 0
    abandoned: int = 0
    undispatched: int = 0
    travelled_m: float = 0.0
    by_source: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class SimulationReport:
    """The figures of one run."""

    stats: SimulationStats
    open: int
    en_route: int
    simulated_s: float
    wall_s: float
    speed: float
    interrupted: bool

    def __str__(self) -> str:
        s = self.stats
        sources = ", ".join(f"{name} {count}" for name, count in sorted(s.by_source.items()))
        ending = "stopped by Ctrl-C" if self.interrupted else "finished"
        return (
            f"simulation {ending}: {self.simulated_s / 60:.1f} simulated min in {self.wall_s:.1f} s "
            f"(speed {self.speed:g})\n"
            f"  {s.reported} reported ({sources}), {s.closed} closed, {self.open} still open, "
            f"{self.en_route} workers en route\n"
            f"  {s.dispatched} dispatched, {s.arrivals} arrivals, {s.self_disposed} self-disposed on patrol, "
            f"{s.extensions} extensions, {s.reworks} reworks, {s.supervised} supervised\n"
            f"  {s.pings} position pings, {s.travelled_m / 1000:.1f} km ridden, {s.transitions} transitions, "
            f"{s.failed_steps} failed steps, {s.abandoned} cases left to operators, "
            f"{s.undispatched} never dispatched"
        )


class Simulation:
    """Drives cases and workers from one event loop; run() returns the report."""

    def __init__(
        self,
        sessions: SessionFactory,
        graph: RoadGraph,
        households: HouseholdSampler,
        options: SimulationOptions,
        *,
        catalog: CategoryCatalog | None = None,
        calendar: WorkingCalendar | None = None,
        progress: Progress = print,
    ) -> None:
        options.check()
        self.sessions, self.graph, self.households, self.options = sessions, graph, households, options
        self.behaviour = options.behaviour
        self.catalog = catalog or default_catalog()
        self.calendar = calendar or default_calendar()
        self.progress = progress
        self.rng = np.random.default_rng(options.seed)
        self.loop = EventLoop(options.speed)
        self.start = options.start or now_utc()
        self.actors = SimulationActors()
        self.open_cases: dict[int, SimCase] = {}
        self.workers: dict[int, Worker] = {}
        self.stats = SimulationStats()
        self._numbers = 0
        self._tick_pending = False

    # --- running -------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.loop.now_s)

    def run(self, wall_clock: Callable[[], float] | None = None) -> SimulationReport:
        """Run for options.minutes simulated minutes (or until stopped)."""
        import time

        clock = wall_clock or time.monotonic
        began = clock()
        self.loop.after(self._interarrival_s(), self._report_case)
        self.loop.run(self.options.minutes * 60)
        return SimulationReport(
            self.stats,
            len(self.open_cases),
            self.en_route,
            self.loop.now_s,
            clock() - began,
            self.options.speed,
            self.loop.stopped,
        )

    @property
    def en_route(self) -> int:
        return sum(1 for worker in self.workers.values() if worker.path is not None)

    def status_line(self) -> str:
        elapsed = timedelta(seconds=round(self.loop.now_s))
        return (
            f"[simulate] +{elapsed} {len(self.open_cases)} open, {self.stats.closed} closed, "
            f"{self.en_route} workers en route, {self.stats.pings} pings"
        )

    def _transaction(self, what: str, work: Callable[[Session], T]) -> T | None:
        """Run one step in its own transaction; a refused step is logged, rolled back and skipped."""
        with self.sessions() as session:
            try:
                result = work(session)
                session.commit()
            except DomainError as error:
                session.rollback()
                self.stats.failed_steps += 1
                log.warning("[simulate] %s failed: %s", what, error)
                return None
        return result

    def _act(self, case: SimCase, action: str, actor: Actor, **options: object) -> bool:
        """One workflow transition of a case through transition_case; False when it was refused."""

        def work(session: Session) -> str:
            stored = transition_case(
                session, case.case_id, action, actor, now=self.now(), catalog=self.catalog,
                calendar=self.calendar, **options,  # type: ignore[arg-type]
            )  # fmt: skip
            return stored.state

        state = self._transaction(f"{action} of case {case.case_id}", work)
        if state is None:
            return False
        case.state = state
        self._count_transition()
        return True

    def _count_transition(self) -> None:
        self.stats.transitions += 1
        if self.stats.transitions % self.options.progress_every == 0:
            self.progress(self.status_line())

    def _abandon(self, case: SimCase) -> None:
        """Stop following a case a person has taken over."""
        if self.open_cases.pop(case.number, None) is not None:
            self.stats.abandoned += 1

    # --- reporting -----------------------------------------------------------------------------

    def _interarrival_s(self) -> float:
        return float(self.rng.exponential(60.0 / self.options.rate_per_min))

    def _report_case(self) -> None:
        self.loop.after(self._interarrival_s(), self._report_case)
        code = self.catalog.sample(self.rng, 1)[0]
        category = self.catalog.get(code)
        plan = CasePlan.draw(self.rng, self.behaviour, category.self_dispose)
        positions = [self.households.draw(self.rng) for _ in range(POSITION_ATTEMPTS)]

        def work(session: Session) -> tuple[int, float, float]:
            for lon, lat in positions:
                try:
                    report = create_case(
                        session, category_code=code, lon=lon, lat=lat, source=plan.source,
                        actor=self.actors.reporter(plan.source), description=f"模拟上报：{category.name}",
                        now=self.now(), catalog=self.catalog, calendar=self.calendar,
                        within=self.options.district,
                    )  # fmt: skip
                except OutOfDistrictError:
                    continue
                return report.case.id, lon, lat
            raise OutOfDistrictError(f"{POSITION_ATTEMPTS} positions near households all fell outside grids")

        created = self._transaction(f"report of {code}", work)
        if created is None:
            return
        self._numbers += 1
        case = SimCase(self._numbers, created[0], code, created[1], created[2], plan)
        self.open_cases[case.number] = case
        self.stats.reported += 1
        self.stats.by_source[plan.source] += 1
        self._count_transition()
        if plan.self_dispose:
            self._later("self_dispose_delay_s", lambda: self._self_dispose(case))
        else:
            self._later("accept_delay_s", lambda: self._accept(case))

    def _later(self, delay: str, action: Callable[[], None]) -> None:
        """Schedule `action` after a delay drawn from the behaviour's bounds named `delay`."""
        self.loop.after(draw(self.rng, getattr(self.behaviour, delay)), action)

    # --- operators ------------------------------------------------------------------------------

    def _accept(self, case: SimCase) -> None:
        if not self._act(case, "accept", self.actors.dispatcher):
            return self._abandon(case)
        self._later("register_delay_s", lambda: self._register(case))

    def _register(self, case: SimCase) -> None:
        if not self._act(case, "register", self.actors.dispatcher):
            return self._abandon(case)
        if case.plan.supervise:
            self._later("supervise_after_s", lambda: self._supervise(case))
        self._later("dispatch_delay_s", lambda: self._dispatch(case))

    def _supervise(self, case: SimCase) -> None:
        if case.number in self.open_cases and self._act(case, "supervise", self.actors.street):
            self.stats.supervised += 1

    def _dispatch(self, case: SimCase) -> None:
        case.dispatch_attempts += 1

        def work(session: Session) -> tuple[int, float, float]:
            decision = dispatch_case(
                session, case.case_id, self.actors.dispatcher, now=self.now(), graph=self.graph,
                catalog=self.catalog, calendar=self.calendar, note="模拟派遣",
            )  # fmt: skip
            lon, lat = session.execute(text(POSITION_SQL), {"m": decision.member_id}).one()
            return decision.member_id, float(lon), float(lat)

        chosen = self._transaction(f"dispatch of case {case.case_id}", work)
        if chosen is None:
            if case.dispatch_attempts < self.behaviour.dispatch_attempts:
                self.loop.after(self.behaviour.dispatch_retry_s, lambda: self._dispatch(case))
            else:
                self.stats.undispatched += 1
                self._abandon(case)
            return
        case.state, case.member_id = "dispatched", chosen[0]
        self.stats.dispatched += 1
        self._count_transition()
        worker = self._worker(*chosen)
        worker.jobs.append(Job(case, rework=False))
        self._start_next_job(worker)

    def _verify(self, case: SimCase) -> None:
        if case.plan.rework and not case.reworked and case.member_id in self.workers:
            if not self._act(case, "rework", self.actors.community, note="核查未通过，返工"):
                return self._abandon(case)
            case.reworked = True
            self.stats.reworks += 1
            worker = self.workers[case.member_id]
            worker.jobs.append(Job(case, rework=True))
            return self._start_next_job(worker)
        if not self._act(case, "verify", self.actors.community, note="核查通过"):
            return self._abandon(case)
        self._later("close_delay_s", lambda: self._close(case))

    def _close(self, case: SimCase) -> None:
        if not self._act(case, "close", self.actors.community):
            return self._abandon(case)
        self.open_cases.pop(case.number, None)
        self.stats.closed += 1

    def _grant_extension(self, worker: Worker, case: SimCase) -> None:
        granted = self._act(case, "grant_extension", self.actors.street)
        self.stats.extensions += granted
        self._later("extended_handling_s" if granted else "handling_s", lambda: self._dispose(worker, case))

    # --- field workers --------------------------------------------------------------------------

    def _worker(self, member_id: int, lon: float, lat: float) -> Worker:
        if member_id not in self.workers:
            speed_kmh = draw(self.rng, self.behaviour.cycling_kmh)
            actor = self.actors.worker(member_id)
            self.workers[member_id] = Worker(member_id, actor, lon, lat, speed_kmh / 3.6)
        return self.workers[member_id]

    def _self_dispose(self, case: SimCase) -> None:
        photos = self._photos(case)
        if not self._act(case, "self_dispose", self.actors.patrol, lon=case.lon, lat=case.lat, media=photos):
            return self._abandon(case)
        self.stats.self_disposed += 1
        self._later("verify_delay_s", lambda: self._verify(case))

    def _start_next_job(self, worker: Worker) -> None:
        """Set off along the road to the next queued case, if idle."""
        if worker.job is not None or not worker.jobs:
            return
        worker.job = worker.jobs.popleft()
        worker.path = self._route(worker.lon, worker.lat, worker.job.case)
        worker.departed_s = self.loop.now_s
        self._schedule_tick()

    def _route(self, lon: float, lat: float, case: SimCase) -> RoutePath:
        try:
            route = self.graph.search_to((case.lon, case.lat)).route_from((lon, lat))
        except InvalidInputError:  # no road network or no connection: go straight across
            return RoutePath([(lon, lat), (case.lon, case.lat)])
        return RoutePath(route.geometry["coordinates"])  # type: ignore[arg-type]

    def _schedule_tick(self) -> None:
        """One movement tick for all riding workers, on the next multiple of the ping interval."""
        if self._tick_pending:
            return
        interval = self.options.ping_interval_s
        self._tick_pending = True
        self.loop.at((math.floor(self.loop.now_s / interval) + 1) * interval, self._move_workers)

    def _move_workers(self) -> None:
        """Advance every riding worker along its route and post its ping (one transaction)."""
        self._tick_pending = False
        riding = [w for _, w in sorted(self.workers.items()) if w.path is not None]
        now, arrived = self.now(), []
        for worker in riding:
            assert worker.path is not None
            travelled = (self.loop.now_s - worker.departed_s) * worker.speed_mps
            worker.lon, worker.lat = worker.path.lonlat_at(travelled)
            if travelled >= worker.path.length_m:
                arrived.append(worker)

        def work(session: Session) -> int:
            for worker in riding:
                ping = PingIn(lon=worker.lon, lat=worker.lat, device_time=now, accuracy_m=PING_ACCURACY_M)
                record_pings(session, worker.actor, [ping], "wgs84", now=now)
            return len(riding)

        self.stats.pings += self._transaction("position pings", work) or 0
        for worker in arrived:
            assert worker.path is not None
            self.stats.travelled_m += worker.path.length_m
            worker.path = None
            self._arrive(worker)
        if any(w.path is not None for w in self.workers.values()):
            self._schedule_tick()

    def _arrive(self, worker: Worker) -> None:
        assert worker.job is not None
        job, case = worker.job, worker.job.case
        self.stats.arrivals += 1
        if job.rework:
            self._later("rework_handling_s", lambda: self._dispose(worker, case))
            return
        if not self._act(case, "start", worker.actor, lon=worker.lon, lat=worker.lat, note="到达现场"):
            self._abandon(case)
            return self._finish_job(worker)
        if case.plan.extension:
            self._later("extension_request_after_s", lambda: self._request_extension(worker, case))
        else:
            self._later("handling_s", lambda: self._dispose(worker, case))

    def _request_extension(self, worker: Worker, case: SimCase) -> None:
        hours = self.behaviour.extension_hours
        if self._act(case, "request_extension", worker.actor, hours=hours, note="需协调，申请延期"):
            self._later("extension_decision_s", lambda: self._grant_extension(worker, case))
        else:
            self._later("handling_s", lambda: self._dispose(worker, case))

    def _dispose(self, worker: Worker, case: SimCase) -> None:
        where = {"lon": worker.lon, "lat": worker.lat}
        disposed = self._act(case, "dispose", worker.actor, **where, note="已处置", media=self._photos(case))
        self._finish_job(worker)
        if not disposed:
            return self._abandon(case)
        self._later("verify_delay_s", lambda: self._verify(case))

    def _photos(self, case: SimCase) -> tuple[str, ...]:
        """The after-photo a disposal of this case's category needs (none where it needs none)."""
        return self.options.photo_refs if self.catalog.get(case.category_code).photo_on_dispose else ()

    def _finish_job(self, worker: Worker) -> None:
        worker.job = None
        self._start_next_job(worker)
