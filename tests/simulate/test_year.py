"""A year of synthetic cases: deterministic per seed, uneven in space and time, labelled synthetic."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from sqlalchemy import Connection, text

from gis_api.cases.calendar import default_calendar
from gis_api.cases.categories import default_catalog
from gis_api.errors import ConflictError
from gis_api.simulate.year import Place, Places, classify, generate
from gis_api.simulate.year_store import YearOptions, _simulate
from tests.workload.world import build

ZONE = default_calendar().zone


def places() -> Places:
    """Two homes of 100 households (one old), one market, one school, 1 km apart."""
    xy = np.array([[0.0, 0.0], [1000.0, 0.0], [0.0, 1000.0], [1000.0, 1000.0]])
    return classify(
        xy, np.array([100.0, 100.0, 0.0, 0.0]), ["tower", "lowrise", "commercial", "school"],
        np.array([18.0, 2.0, np.nan, np.nan]),
    )  # fmt: skip


def test_same_seed_same_year_and_another_seed_another() -> None:
    catalog = default_catalog()
    first = generate(places(), catalog, date(2025, 1, 1), 3000, ZONE, seed=5)
    again = generate(places(), catalog, date(2025, 1, 1), 3000, ZONE, seed=5)
    other = generate(places(), catalog, date(2025, 1, 1), 3000, ZONE, seed=6)
    assert np.array_equal(first.xy, again.xy) and first.reported == again.reported
    assert list(first.codes) == list(again.codes)
    assert not np.array_equal(first.xy, other.xy)


def test_hot_spots_season_week_and_old_quarters() -> None:
    catalog = default_catalog()
    cases = generate(places(), catalog, date(2025, 1, 1), 20000, ZONE, seed=1)
    assert len(cases.reported) == 20000
    count = np.bincount(cases.place, minlength=len(Place))
    # rates: homes 100 and 2 × 100 (old), market 300, school 150 on school days only
    assert count[Place.MARKET] > count[Place.OLD_QUARTER] > count[Place.BACKGROUND]
    school_days = [r for r, p in zip(cases.reported, cases.place, strict=True) if p == Place.SCHOOL_GATE]
    assert school_days and all(r.isoweekday() <= 5 and r.month != 8 for r in school_days)
    months = np.bincount([r.month for r in cases.reported], minlength=13)
    assert months[7] > 1.4 * months[1]  # seasonal wave peaks mid-July
    component = np.array([str(c).startswith("C") for c in cases.codes])
    assert (
        component[cases.place == Place.OLD_QUARTER].mean()
        > 1.8 * component[cases.place == Place.BACKGROUND].mean()
    )
    assert all(r.tzinfo is not None and 0 <= (r.date() - date(2025, 1, 1)).days < 365 for r in cases.reported)


def test_simulate_year_inserts_synthetic_cases_in_grids_once(connection: Connection) -> None:
    build(connection)
    options = YearOptions(district="420106", since=date(2025, 1, 1), cases=300, seed=3)
    summary = _simulate(connection, options, lambda line: None, 0.0)
    rows = connection.execute(
        text(
            "SELECT count(*), bool_and(synthetic), bool_and(grid_id IS NOT NULL), min(created_at) "
            "FROM incident"
        )
    ).one()
    assert rows[0] == summary.inserted == 300 - summary.outside and rows[0] > 250
    assert rows[1] and rows[2] and rows[3].date() >= date(2024, 12, 31)
    with pytest.raises(ConflictError, match=r"already has .* synthetic cases .* --replace"):
        _simulate(connection, options, lambda line: None, 0.0)
    again = _simulate(
        connection, YearOptions(**{**options.__dict__, "replace": True}), lambda line: None, 0.0
    )
    assert again.inserted == summary.inserted
    assert connection.execute(text("SELECT count(*) FROM incident")).scalar_one() == summary.inserted
