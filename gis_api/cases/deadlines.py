"""Stage deadlines: when each workflow step starts, stops, extends or restores a case's clock.

Pure functions over the workflow's Step, the category's limits and the working calendar. A suspended
(挂账) case keeps the working time it had left and gets it back on resume; an extension adds working
hours to the current deadline. A deadline that falls past the calendar's covered years is marked
uncertain (counted on weekdays, holidays unknown) instead of being silently wrong.
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
    uncertain: bool = False
    """The deadline (or the paused time left) was counted past the calendar's coverage."""

    def remaining_s(self, calendar: WorkingCalendar, now: datetime) -> float | None:
        """Working seconds left (negative once overdue); None when no clock runs."""
        if self.deadline is None:
            return self.paused_remaining_s
        return calendar.working_seconds_between(now, self.deadline)


def timed(stage: Stage, deadline: datetime, calendar: WorkingCalendar) -> Clock:
    """A running clock, uncertain when its deadline lies outside the calendar's covered years."""
    return Clock(stage, deadline, uncertain=not calendar.covers(deadline))


def start_clock(state: State, category: Category, calendar: WorkingCalendar, now: datetime) -> Clock:
    """A fresh clock for the stage of `state` from `now`."""
    stage = STAGE_OF_STATE.get(state)
    if stage is None:
        return Clock(None, None)
    return timed(stage, calendar.add_working_hours(now, category.stage_hours[stage]), calendar)


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
        return Clock(None, None, clock.remaining_s(calendar, now), clock.uncertain)
    if step.action is Action.RESUME:
        left = max(clock.paused_remaining_s or 0.0, 0.0)
        return timed(STAGE_OF_STATE[step.to_state], calendar.add_working_seconds(now, left), calendar)
    if step.action is Action.GRANT_EXTENSION and clock.deadline is not None and clock.stage is not None:
        extended = calendar.add_working_hours(clock.deadline, extension_hours or 0)
        return timed(clock.stage, extended, calendar)
    if step.to_state not in STAGE_OF_STATE:
        return Clock(None, None)
    if step.restarts_clock:
        return start_clock(step.to_state, category, calendar, now)
    return clock


def redated(clock: Clock, before: WorkingCalendar, after: WorkingCalendar, now: datetime) -> Clock:
    """The clock recounted with a calendar that covers more years: the working time left (as the
    old calendar counted it) placed on the new calendar. Clocks that were certain, or already past
    their deadline, are returned unchanged."""
    if not clock.uncertain or clock.deadline is None or clock.stage is None or clock.deadline <= now:
        return clock
    left = before.working_seconds_between(now, clock.deadline)
    return timed(clock.stage, after.add_working_seconds(now, left), after)
