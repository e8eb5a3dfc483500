"""Schemathesis against the whole API, in-process (ASGI) on the real PostGIS test database: every
operation answers generated valid and invalid requests without a 5xx, with a documented status code
and content type, and a body that matches the published schema.

A small example budget keeps this to seconds in CI (WANGGE_FUZZ_EXAMPLES, default 2 per operation
and mode); `bench/fuzz.py` runs the same checks with a large budget.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from gis_api.auth.service import create_user
from gis_api.config import Settings
from tests import tiny_district
from tests.api.app_fixtures import PASSWORD
from tests.fuzz.runner import fuzz_operation, operations
from tests.security.api_world import Api

EXAMPLES = int(os.environ.get("WANGGE_FUZZ_EXAMPLES", "2"))
MUST_COVER = {
    "GET /districts",
    "GET /auth/me",
    "GET /open311/discovery.{fmt}",
    "GET /assessment/streets/ranking",
}
"""Routes the districts work added or reshaped: the run must include them."""
FACES = (
    "/residents/grid",
    "/residents/areas",
    "/residents/reports/{report_id}/rating",
    "/residents/surveys/{token}",
    "/households/nearby",
    "/assessment/survey-links",
    "/plans/{plan_id}/report",
    "/plans/{plan_id}/report.html",
    "/open311/v2/requests.{fmt}",
    "/open311/v2/media/{digest}",
)
"""The field app's, residents' and planner report's routes (faces-field) under the security rules:
fuzzed in the whole run, then again with a larger budget, as the admin and without a login."""
COMMAND = (
    "/hotline/cases",
    "/hotline/duplicates",
    "/cases/{case_id}/contact",
    "/categories",
    "/search",
    "/members/{member_id}/track",
    "/exports/cases.{fmt}",
    "/exports/kpis.{fmt}",
    "/exports/ranking.{fmt}",
    "/analytics/heatmap",
    "/analytics/trends",
)
"""The command centre's routes (faces-command: 12345 desk, search, tracks, exports, analytics), fuzzed
the same way."""
FACES_EXAMPLES = max(EXAMPLES, 6)
CITY_WIDE = (
    "/districts",
    "/auth/me",
    "/cases",
    "/cases/counters",
    "/members",
    "/layers/grids",
    "/assessment/kpis",
    "/assessment/streets/ranking",
    "/open311/discovery.{fmt}",
    "/open311/v2/requests.{fmt}",
    "/search",
    "/exports/cases.{fmt}",
    "/analytics/heatmap",
    "/analytics/trends",
)
"""Operations whose answers span districts for a city scope, fuzzed again as a city operator."""


def test_every_operation_conforms_and_never_fails(api: Api, settings: Settings, tmp_path: Path) -> None:
    app = api.client.app
    app.state.settings = settings.model_copy(update={"var_dir": tmp_path})  # type: ignore[attr-defined]
    results = [fuzz_operation(operation, api.headers("admin"), EXAMPLES) for operation in operations(app)]
    assert len(results) > 40 and sum(r.requests for r in results) > 80
    assert {r.label for r in results} >= MUST_COVER
    assert {r.label.split(" ", 1)[1] for r in results} >= set(FACES + COMMAND)
    failures = [f"{r.label}: {r.failure}" for r in results if r.failure]
    assert not failures, "\n\n".join(failures)


def test_city_wide_operations_conform_for_a_city_operator(
    api: Api, connection: Connection, db_session: Session
) -> None:
    """Two districts of one city, fuzzed as the city operator: no 5xx, documented answers."""
    tiny_district.build_other(connection)
    create_user(db_session, "city_op", PASSWORD, "city_operator", tiny_district.CITY)
    db_session.commit()
    chosen = [op for op in operations(api.client.app) if op.path in CITY_WIDE]
    assert {operation.path for operation in chosen} == set(CITY_WIDE)
    results = [fuzz_operation(operation, api.headers("city_op"), EXAMPLES) for operation in chosen]
    assert sum(r.requests for r in results) >= len(chosen)
    failures = [f"{r.label}: {r.failure}" for r in results if r.failure]
    assert not failures, "\n\n".join(failures)


def test_faces_operations_conform_signed_in_and_anonymous(
    api: Api, settings: Settings, tmp_path: Path
) -> None:
    """The residents' public routes, nearby households, survey links, the plan report, the Open311
    post with photos and the command centre's desk, search, tracks, exports and analytics: no 5xx on
    generated NUL bytes, control characters, odd Unicode or huge numbers, documented statuses (429
    included) and bodies that match the schema."""
    app = api.client.app
    app.state.settings = settings.model_copy(update={"var_dir": tmp_path})  # type: ignore[attr-defined]
    chosen = [op for op in operations(app) if op.path in FACES + COMMAND]
    assert {operation.path for operation in chosen} == set(FACES + COMMAND)
    results = [
        fuzz_operation(operation, headers, FACES_EXAMPLES)
        for headers in (api.headers("admin"), {})
        for operation in chosen
    ]
    assert sum(r.requests for r in results) >= 2 * len(chosen)
    failures = [f"{r.label}: {r.failure}" for r in results if r.failure]
    assert not failures, "\n\n".join(failures)
