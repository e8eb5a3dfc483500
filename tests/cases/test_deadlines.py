"""Stage clocks: start, carry over, extend, pause on suspension and restore on resume."""

from datetime import datetime
from zoneinfo import ZoneInfo

from gis_api.cases.calendar import default_calendar
from gis_api.cases.categories import Stage, default_catalog
from gis_api.cases.deadlines import Clock, next_clock, start_clock
from gis_api.cases.workflow import Action, CaseSnapshot, State, apply

CN = ZoneInfo("Asia/Shanghai")
CAL = default_calendar()
ADS = default_catalog().get("E0201")  # dispose within 4 working hours
POLICY = default_catalog().policy


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=CN)  # 2 March 2026 is a Monday


def test_reported_case_gets_accept_deadline() -> None:
    clock = start_clock(State.REPORTED, ADS, CAL, at(2, 9))
    assert clock == Clock(Stage.ACCEPT, at(2, 9, 30))


def test_dispatch_starts_dispose_clock_and_start_keeps_it() -> None:
    clock = Clock(Stage.DISPATCH, at(2, 10))
    dispatched = apply(CaseSnapshot(State.REGISTERED), Action.DISPATCH, "admin", POLICY)
    clock = next_clock(dispatched, clock, ADS, CAL, at(2, 11))
    assert clock == Clock(Stage.DISPOSE, at(2, 17))  # 11-12 + 14-17
    started = apply(dispatched.after, Action.START, "grid_worker", POLICY)
    assert next_clock(started, clock, ADS, CAL, at(2, 15)) == clock


def test_extension_adds_working_hours_to_deadline() -> None:
    case = CaseSnapshot(State.IN_PROGRESS, extension_requested_hours=3)
    granted = apply(case, Action.GRANT_EXTENSION, "street_operator", POLICY)
    clock = next_clock(granted, Clock(Stage.DISPOSE, at(6, 17)), ADS, CAL, at(6, 10), 3)
    assert clock.deadline == at(9, 10, 30)  # Friday 17:00 + 3 h -> Monday 10:30


def test_suspension_pauses_and_resume_restores_remaining_time() -> None:
    running = Clock(Stage.DISPOSE, at(2, 16))
    suspend = apply(CaseSnapshot(State.IN_PROGRESS), Action.SUSPEND, "admin", POLICY, now=at(2, 15))
    paused = next_clock(suspend, running, ADS, CAL, at(2, 15))
    assert paused == Clock(None, None, 3600.0)
    assert paused.remaining_s(CAL, at(20, 9)) == 3600.0  # frozen while suspended
    resume = apply(suspend.after, Action.RESUME, "admin", POLICY)
    restored = next_clock(resume, paused, ADS, CAL, at(13, 17, 30))
    assert restored == Clock(Stage.DISPOSE, at(16, 9))  # 30 min Friday + 30 min Monday


def test_rework_restarts_dispose_and_close_stops_clock() -> None:
    rework = apply(CaseSnapshot(State.DISPOSED), Action.REWORK, "grid_worker", POLICY)
    clock = next_clock(rework, Clock(Stage.VERIFY, at(2, 12)), ADS, CAL, at(2, 9))
    assert clock == Clock(Stage.DISPOSE, at(2, 15))  # 9-12 then 14-15


def test_closing_stops_the_clock() -> None:
    close = apply(CaseSnapshot(State.VERIFIED), Action.CLOSE, "admin", POLICY)
    assert next_clock(close, Clock(Stage.CLOSE, at(2, 12)), ADS, CAL, at(2, 11)) == Clock(None, None)
    assert Clock(None, None).remaining_s(CAL, at(2, 11)) is None


def test_overdue_remaining_is_negative() -> None:
    clock = Clock(Stage.DISPOSE, at(2, 10))
    assert clock.remaining_s(CAL, at(2, 15)) == -3 * 3600
