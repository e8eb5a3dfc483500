"""`wangge simulate`: run the incident simulation against a database until its time is up or Ctrl-C."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from types import FrameType

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from gis_api.cases.service import now_utc
from gis_api.config import get_settings
from gis_api.districts.service import resolve_district
from gis_api.routing.engine import road_graph
from gis_api.simulate.households import HouseholdSampler
from gis_api.simulate.loop import EventLoop
from gis_api.simulate.photo import stored_photo_ref
from gis_api.simulate.simulation import Progress, Simulation, SimulationOptions, SimulationReport


def run_simulation(
    engine: Engine, options: SimulationOptions, progress: Progress = print, district: str | None = None
) -> SimulationReport:
    """Load one district's households and road graph once, then simulate; the first Ctrl-C stops
    cleanly. `district` None: the only district loaded."""
    options.check()
    if not options.photo_refs:
        options = replace(options, photo_refs=(stored_photo_ref(get_settings().var_dir),))
    with Session(engine) as session:
        target = resolve_district(session, district).code
        households = HouseholdSampler.from_session(session, options.behaviour.household_spread_m, target)
        options = replace(options, district=target, start=options.start or resume_time(session))
    graph = road_graph(engine, target)
    simulation = Simulation(lambda: Session(engine), graph, households, options, progress=progress)
    progress(
        f"[simulate] district {target}: {len(households):,} households, {graph.node_count:,} road nodes; "
        f"{options.rate_per_min:g} cases/min at speed {options.speed:g}, seed {options.seed}, "
        f"simulated start {options.start:%Y-%m-%d %H:%M:%S%z} (Ctrl-C stops)"
    )
    with stop_on_interrupt(simulation.loop, progress):
        report = simulation.run()
    progress(simulation.status_line())
    return report


NEWEST_STAMP_SQL = """
SELECT greatest((SELECT max(device_time) FROM position_ping), (SELECT max(updated_at) FROM incident))
"""


def resume_time(session: Session) -> datetime:
    """Now, or just after the newest stored stamp when an earlier fast run got ahead of the clock.

    A member's position is the newest fix by device time, so a run stamped before an earlier
    run's pings would ride workers whose positions never move on the map.
    """
    newest: datetime | None = session.scalar(text(NEWEST_STAMP_SQL))
    now = now_utc()
    return max(now, newest + timedelta(seconds=1)) if newest is not None else now


@contextmanager
def stop_on_interrupt(loop: EventLoop, progress: Progress) -> Iterator[None]:
    """First SIGINT: finish the current step and stop; a second one aborts as usual."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def stop(signum: int, frame: FrameType | None) -> None:
        progress("[simulate] stopping after the current step (Ctrl-C again to abort)")
        loop.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    signal.signal(signal.SIGINT, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
