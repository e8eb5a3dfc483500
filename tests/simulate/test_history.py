"""A bulk case history: cases at households of the active plans, moved along the normal path with
one event per step, the command centre's counters agreeing with the rows."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from gis_api.cases.reads import case_counters
from gis_api.cases.service import Actor
from gis_api.errors import InvalidInputError
from gis_api.simulate.history import PATH, monthly_cases, write_history
from tests import tiny_district

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


def history(connection: Connection, cases: int = 400) -> None:
    tiny_district.build(connection)
    write_history(connection, prefix="4201", days=10, cases=cases, now=NOW, rng=np.random.default_rng(3))


def test_cases_follow_the_path_with_an_event_per_step(connection: Connection) -> None:
    history(connection)
    states = dict(connection.execute(text("SELECT state, count(*) FROM incident GROUP BY 1")).all())
    assert sum(states.values()) == 400 and states["closed"] > 300
    open_rows = connection.execute(
        text("SELECT count(*) FROM incident WHERE state NOT IN ('closed', 'void') AND stage IS NULL")
    ).scalar_one()
    assert open_rows == 0  # every open case has a running stage (and a deadline)
    events = connection.execute(
        text(
            "SELECT i.state, count(e.id), min(e.action) FILTER (WHERE e.at = i.created_at) "
            "FROM incident i JOIN case_event e ON e.case_id = i.id GROUP BY i.id, i.state"
        )
    ).all()
    for state, count, first in events:
        assert first == "report"
        if state == "closed":
            assert count == len(PATH) + 1
    late = connection.execute(
        text("SELECT count(*) FROM incident WHERE closed_at < created_at OR created_at > :now"), {"now": NOW}
    ).scalar_one()
    assert late == 0


def test_counters_match_the_rows(connection: Connection) -> None:
    history(connection)
    actor = Actor("city", "city_operator", None, "4201", None)
    session = Session(bind=connection)
    counters = case_counters(session, actor)
    expected = connection.execute(
        text("SELECT count(*) FROM incident WHERE state NOT IN ('closed', 'void')")
    ).scalar_one()
    assert counters["open"] == expected and counters["open"] > 0


def test_the_rate_and_bad_requests() -> None:
    assert monthly_cases(4_990_494) == pytest.approx(190_000)
    with pytest.raises(InvalidInputError, match="positive number of cases"):
        write_history(None, prefix="4201", days=0, cases=10, now=NOW, rng=np.random.default_rng(1))  # type: ignore[arg-type]
