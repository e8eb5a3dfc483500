"""Stage deadlines: when each workflow step starts, stops, extends or restores a case's clock.

Pure functions over the workflow's Step, the category's limits and the working calendar. A suspended
(挂账) case keeps the working time it had left and gets it back on resume; an extension adds working
hours to the current deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gis_api.cases.calendar import WorkingCalendar
from gis_api.cases.categories import Category, Stage
from gis_api.cases.workflow import STAGE_OF_STATE, Action, State, Step


@dataclass(frozen=True)
class Clock:
    """The timed stage a case is in, its deadline, and the time left when it was suspended."""

    stage: Stage | None
    deadline: datetime | None
    paused_remaining_s: float | None = None

    def remaining_s(self, calendar: WorkingCalendar, now: datetime) -> float | None:
        """Working seconds left (negative once overdue); None when no clock runs."""
        if self.deadline is None:
            return self.paused_remaining_s
        return calendar.working_seconds_between(now, self.deadline)


def start_clock(state: State, category: Category, calendar: WorkingCalendar, now: datetime) -> Clock:
    """A fresh clock for the stage of `state` from `now`."""
    stage = STAGE_OF_STATE.get(state)
    if stage is None:
        return Clock(None, None)
    return Clock(stage, calendar.add_working_hours(now, category.stage_hours[stage]))


def next_clock(
    step: Step,
    clock: Clock,
    category: Category,
    calendar: WorkingCalendar,
    now: datetime,
    extension_hours: float | None = None,
) -> Clock:
    """The clock after `step`; `extension_hours` is the granted extension for GRANT_EXTENSION."""
    if step.action is Action.SUSPEND:
        return Clock(None, None, clock.remaining_s(calendar, now))
    if step.action is Action.RESUME:
        left = max(clock.paused_remaining_s or 0.0, 0.0)
        return Clock(STAGE_OF_STATE[step.to_state], calendar.add_working_seconds(now, left))
    if step.action is Action.GRANT_EXTENSION and clock.deadline is not None:
        return Clock(clock.stage, calendar.add_working_hours(clock.deadline, extension_hours or 0))
    if step.to_state not in STAGE_OF_STATE:
        return Clock(None, None)
    if step.restarts_clock:
        return start_clock(step.to_state, category, calendar, now)
    return clock
