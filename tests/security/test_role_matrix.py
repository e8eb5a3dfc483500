"""Every role × every route of create_app(): allowed, or 401/403/404 — never a leak, never a 5xx.

The routes are enumerated from the application itself (`app_routes`), flattened through the
included routers, and a route without a row here fails `test_every_endpoint_is_in_the_matrix`, as
does a row whose route no longer exists. The enumeration is checked to find a realistic number of
routes and every route the OpenAPI document publishes: on FastAPI 0.165 `app.routes` holds only
`_IncludedRouter` wrappers, and a matrix that iterated it as before checked nothing. Any route that
is neither public by design (with its reason) nor refused without a login fails
`test_every_route_is_guarded_or_public_by_design`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from gis_api.auth.service import create_user
from gis_api.config import Settings
from tests.api.app_fixtures import PASSWORD
from tests.cases.fixtures import GRID_SW
from tests.security.api_world import EAST_INCIDENT, INCIDENT, Api
from tests.security.role_probes import (
    SW_HOUSEHOLD,
    Probe,
    active_plan,
    app_routes,
    call_body,
    case_photo,
    dispatched_case,
    fresh_case,
    hotline_case,
    login_form,
    pings_body,
    plan_report,
    public_case,
    refresh_body,
    registered_case,
    report_body,
    resident_photo,
    resident_report,
    survey_link,
    worker_member,
)

ROLES = (
    "anonymous",
    "admin",
    "city_op",
    "district_op",
    "west_op",
    "east_op",
    "west_community_op",
    "west_worker",
    "north_worker",
    "planner",
)
OPERATORS_WEST = {"admin", "city_op", "district_op", "west_op", "west_community_op"}
SENIOR_WEST = {"admin", "city_op", "district_op", "west_op"}
AUTHENTICATED = set(ROLES) - {"anonymous"}
CASE_READERS_WEST = OPERATORS_WEST | {"west_worker"}
PUBLIC = frozenset(ROLES)
WEST_CODES = ("420106001",)
PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(32)


JUNK_IDS = (
    *("case_id", "request_id", "member_id", "plan_id", "other_id"),
    *("ref", "code", "action", "report_id", "digest"),
)
"""Path parameters the junk probe fills with an absurd number ({token} gets junk text below)."""


def out_of_scope(ok: set[str]) -> dict[str, int]:
    """Expected refusal per role for an object in the west street's south grid."""
    hidden = {"east_op": 404, "north_worker": 404, "anonymous": 401, "planner": 403}
    return {role: hidden.get(role, 403) for role in ROLES if role not in ok}


_DUPLICATES = f"/hotline/duplicates?category=E0201&lon={INCIDENT[0]}&lat={INCIDENT[1]}"
WEST_TILE = "/tiles/{layer}/14/13394/6730.mvt"
"""The z14 tile holding INCIDENT (tests.tiles.mvt.tile_of) in the west street."""
TILE_ROUTE = "/tiles/{layer}/{z}/{x}/{y}.mvt"
PLAN = "/plans/{id}"
PAGES = ("/", "/map", "/command", "/planner", "/field", "/screen", "/report", "/survey", "/config.json")
FIELD_APP = ("/field-sw.js", "/field.webmanifest")
DOCS = ("/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc")


_KPI_PERIOD = "level=street&start=2026-03-01T00:00:00%2B08:00&end=2026-04-01T00:00:00%2B08:00"


PROBES: list[Probe] = [
    Probe("POST", "/cases", frozenset(CASE_READERS_WEST), 201, body=lambda a, v: report_body(INCIDENT)),
    Probe("GET", "/cases", frozenset(AUTHENTICATED - {"planner"})),
    Probe("GET", "/cases/counters", frozenset(AUTHENTICATED - {"planner"})),
    Probe("GET", "/cases/{id}", frozenset(CASE_READERS_WEST), setup=fresh_case, route="/cases/{case_id}"),
    Probe(
        "GET",
        "/cases/{id}/route?lon=114.300&lat=30.550",
        frozenset(CASE_READERS_WEST),
        setup=fresh_case,
        route="/cases/{case_id}/route",
    ),
    Probe(
        "POST",
        "/cases/{id}/actions/{action}",
        frozenset(OPERATORS_WEST),
        setup=fresh_case,
        route="/cases/{case_id}/actions/{action}",
    ),
    Probe(
        "POST",
        "/cases/{id}/dispatch",
        frozenset(OPERATORS_WEST),
        setup=registered_case,
        route="/cases/{case_id}/dispatch",
    ),
    Probe(
        "POST",
        "/cases/{id}/reassign",
        frozenset(OPERATORS_WEST),
        setup=dispatched_case,
        body=lambda a, v: {"member_id": v["other"]},
        refused={"north_worker": 403},  # the role check comes first and says nothing about the case
        route="/cases/{case_id}/reassign",
    ),
    Probe(
        "POST",
        "/cases/{id}/supervise",
        frozenset(SENIOR_WEST),
        setup=fresh_case,
        route="/cases/{case_id}/supervise",
    ),
    Probe(
        "POST",
        "/cases/{id}/visibility",
        frozenset(OPERATORS_WEST),
        setup=fresh_case,
        body=lambda a, v: {"public": True},
        refused={"north_worker": 403},  # the role check comes first
        route="/cases/{case_id}/visibility",
    ),
    # a fresh case is not closed yet, so operators get 409: the point is who gets past the checks
    Probe(
        "POST",
        "/cases/{id}/rating",
        frozenset(OPERATORS_WEST),
        409,
        setup=fresh_case,
        body=lambda a, v: {"rating": 5},
        refused={"north_worker": 403},
        route="/cases/{case_id}/rating",
    ),
    Probe("POST", "/positions", frozenset({"west_worker", "north_worker"}), body=lambda a, v: pings_body()),
    Probe(
        "POST",
        "/visits",
        frozenset({"west_worker"}),
        201,
        body=lambda a, v: {"household_id": SW_HOUSEHOLD, "visited_at": "2026-03-02T10:00:00+08:00"},
        refused={"north_worker": 404},
    ),
    Probe(
        "POST",
        "/assessment/surveys",
        frozenset(OPERATORS_WEST),
        201,
        body=lambda a, v: {
            "household_id": SW_HOUSEHOLD,
            "surveyed_at": "2026-03-05T10:00:00+08:00",
            "trust": 4,
            "satisfaction": 5,
        },
        refused={"east_op": 404, "planner": 403},
    ),
    Probe(
        "GET",
        "/assessment/kpis?level=grid&start=2026-03-01T00:00:00%2B08:00&end=2026-04-01T00:00:00%2B08:00",
        frozenset(AUTHENTICATED),
    ),
    Probe(
        "GET",
        "/assessment/kpis?level=worker&start=2026-03-01T00:00:00%2B08:00&end=2026-04-01T00:00:00%2B08:00",
        frozenset(OPERATORS_WEST | {"east_op"}),
    ),
    Probe("GET", "/assessment/streets/ranking?month=2026-03", frozenset(AUTHENTICATED)),
    Probe("GET", "/events/stream?max_seconds=0.2", frozenset(AUTHENTICATED - {"planner"})),
    Probe("GET", "/members", frozenset(OPERATORS_WEST | {"east_op"})),
    Probe("GET", "/members/me", frozenset({"west_worker", "north_worker"})),
    Probe(
        "POST",
        "/members/me/availability",
        frozenset({"west_worker", "north_worker"}),
        body=lambda a, v: {"status": "available"},
    ),
    Probe("POST", "/media", frozenset(AUTHENTICATED), 201, files=True),
    Probe("GET", "/media/{id}", frozenset(CASE_READERS_WEST), setup=case_photo, route="/media/{ref}"),
    Probe("GET", "/districts", frozenset(AUTHENTICATED)),
    Probe("GET", "/open311/discovery.json", PUBLIC, route="/open311/discovery.{fmt}"),
    Probe("GET", "/open311/v2/services.json", PUBLIC, route="/open311/v2/services.{fmt}"),
    Probe("GET", "/open311/v2/services/E0201.xml", PUBLIC, route="/open311/v2/services/{code}.{fmt}"),
    Probe(
        "POST",
        "/open311/v2/requests.json",
        PUBLIC,
        201,
        form=True,
        # the public channel authenticates the channel (api_key), whoever is logged in
        body=lambda a, v: a.keyed(
            {
                "service_code": "E0201",
                "lat": str(INCIDENT[1]),
                "long": str(INCIDENT[0]),
                "description": "probe",
            }
        ),
        route="/open311/v2/requests.{fmt}",
    ),
    Probe("GET", "/open311/v2/requests.json", PUBLIC, route="/open311/v2/requests.{fmt}"),
    Probe(
        "GET",
        "/open311/v2/requests/{id}.json",
        PUBLIC,
        setup=public_case,
        route="/open311/v2/requests/{request_id}.{fmt}",
    ),
    Probe("GET", "/open311/v2/media/{id}", PUBLIC, setup=resident_photo, route="/open311/v2/media/{digest}"),
    # the hotline desk: callers' contacts for the district desk and the handling street only
    Probe("POST", "/hotline/cases", frozenset(SENIOR_WEST), 201, body=lambda a, v: call_body()),
    Probe("GET", _DUPLICATES, frozenset(AUTHENTICATED - {"planner"})),
    Probe(
        "GET",
        "/cases/{id}/contact",
        frozenset(SENIOR_WEST),
        setup=hotline_case,
        refused={"north_worker": 403},  # the role check comes first and says nothing about the case
        route="/cases/{case_id}/contact",
    ),
    Probe("GET", "/categories", frozenset(AUTHENTICATED)),
    Probe("GET", "/search?q=1", frozenset(AUTHENTICATED)),
    Probe("GET", "/exports/cases.csv", frozenset(AUTHENTICATED - {"planner"}), route="/exports/cases.{fmt}"),
    Probe("GET", f"/exports/kpis.xlsx?{_KPI_PERIOD}", frozenset(AUTHENTICATED), route="/exports/kpis.{fmt}"),
    Probe(
        "GET", "/exports/ranking.csv?month=2026-03", frozenset(AUTHENTICATED), route="/exports/ranking.{fmt}"
    ),
    Probe("GET", "/analytics/heatmap", frozenset(AUTHENTICATED)),
    Probe("GET", "/analytics/trends", frozenset(AUTHENTICATED)),
    Probe(
        "GET",
        "/members/{id}/track?date=2026-03-02",
        frozenset(OPERATORS_WEST | {"west_worker"}),
        setup=worker_member,
        route="/members/{member_id}/track",
    ),
    # the map itself: boundaries for everyone signed in (their districts), household points not for planners
    Probe("GET", "/health", PUBLIC),
    Probe("POST", "/auth/token", PUBLIC, form=True, body=login_form),
    # the refresh token in the form is the credential, whoever else is logged in
    Probe("POST", "/auth/refresh", PUBLIC, form=True, body=refresh_body),
    Probe("POST", "/auth/logout", PUBLIC, 204, form=True, body=refresh_body),
    Probe("GET", "/auth/me", frozenset(AUTHENTICATED)),
    Probe("GET", "/layers/streets", frozenset(AUTHENTICATED)),
    Probe("GET", "/layers/communities", frozenset(AUTHENTICATED)),
    Probe("GET", "/layers/grids", frozenset(AUTHENTICATED)),
    Probe("GET", "/households", frozenset(AUTHENTICATED - {"planner"})),
    Probe("GET", f"/locate?lon={INCIDENT[0]}&lat={INCIDENT[1]}", frozenset(AUTHENTICATED)),
    Probe(
        "POST",
        "/locate/batch",
        frozenset(AUTHENTICATED),
        body=lambda a, v: {"points": [{"lon": INCIDENT[0], "lat": INCIDENT[1]}]},
    ),
    Probe("GET", WEST_TILE, frozenset(AUTHENTICATED), route=TILE_ROUTE, values={"layer": "grids"}),
    Probe(
        "GET",
        WEST_TILE,
        frozenset(AUTHENTICATED - {"planner"}),
        route=TILE_ROUTE,
        values={"layer": "households"},
    ),
    # plans: read by everyone signed in within their districts; activation by planners and
    # district/city admins only (the active plan is no draft: 409 shows who got past the checks)
    Probe("GET", "/plans", frozenset(AUTHENTICATED)),
    Probe("GET", PLAN, frozenset(AUTHENTICATED), setup=active_plan, route="/plans/{plan_id}"),
    Probe(
        "GET",
        PLAN + "/compare/{id}",
        frozenset(AUTHENTICATED),
        setup=active_plan,
        route="/plans/{plan_id}/compare/{other_id}",
    ),
    Probe(
        "GET",
        PLAN + "/compare/{id}/moved",
        frozenset(AUTHENTICATED),
        setup=active_plan,
        route="/plans/{plan_id}/compare/{other_id}/moved",
    ),
    Probe(
        "POST",
        PLAN + "/activate",
        frozenset({"admin", "planner"}),
        409,
        setup=active_plan,
        refused={role: 403 for role in AUTHENTICATED},
        route="/plans/{plan_id}/activate",
    ),
    # the planner's report: built by planners and admins of the plan's districts, opened by its link
    Probe(
        "POST",
        PLAN + "/report",
        frozenset({"admin", "planner"}),
        setup=active_plan,
        refused={role: 403 for role in AUTHENTICATED},
        route="/plans/{plan_id}/report",
    ),
    Probe("GET", "{link}", PUBLIC, setup=plan_report, route="/plans/{plan_id}/report.html"),
    # the pages, their settings and the API documentation are public (data needs a token)
    *(Probe("GET", page, PUBLIC) for page in PAGES + FIELD_APP + DOCS),
    Probe("GET", "/static/js/me.js", PUBLIC, route="/static/{path}"),
    # the field app's nearby households and the residents' faces
    Probe(
        "GET",
        "/assessment/survey-links?grid=" + GRID_SW,
        frozenset(OPERATORS_WEST),
        refused={"east_op": 404, "north_worker": 403, "west_worker": 403, "planner": 403},
        route="/assessment/survey-links",
    ),
    Probe("GET", "/households/nearby?lon=114.305&lat=30.545", frozenset(AUTHENTICATED - {"planner"})),
    # public: the token, not the role, decides (an open report cannot be rated yet: 409 for all)
    Probe("GET", "/residents/grid?lon=114.305&lat=30.545", PUBLIC),
    Probe("GET", "/residents/areas", PUBLIC),
    Probe(
        "POST",
        "/residents/reports/{id}/rating",
        PUBLIC,
        409,
        setup=resident_report,
        body=lambda a, v: {"token": v["token"], "rating": 5},
        route="/residents/reports/{report_id}/rating",
    ),
    Probe("GET", "/residents/surveys/{id}", PUBLIC, setup=survey_link, route="/residents/surveys/{token}"),
    Probe(
        "POST",
        "/residents/surveys/{id}",
        PUBLIC,
        201,
        setup=survey_link,
        body=lambda a, v: {"familiarity": 4, "trust": 4, "satisfaction": 5},
        route="/residents/surveys/{token}",
    ),
]


def expected_refusal(probe: Probe, role: str) -> int:
    if role == "anonymous":
        return 401
    if probe.refused and role in probe.refused:
        return probe.refused[role]
    if probe.setup is not None:
        return out_of_scope(set(probe.ok))[role]
    return 403


def call(api: Api, probe: Probe, role: str) -> Any:
    values: dict[str, Any] = {"action": "accept", **probe.values, **(probe.setup(api) if probe.setup else {})}
    path = probe.path
    for name, value in values.items():
        path = path.replace("{" + name + "}", str(value))
    headers = {} if role == "anonymous" else api.headers(role)
    if probe.files:
        return api.client.post(path, files={"file": ("p.png", PHOTO, "image/png")}, headers=headers)
    body = probe.body(api, values) if probe.body else {}
    if probe.form:
        return api.client.request(probe.method, path, data=body, headers=headers)
    if probe.method == "GET":
        return api.client.get(path, headers=headers)
    return api.client.request(probe.method, path, json=body, headers=headers)


@pytest.fixture
def everyone(api: Api, db_session: Session, settings: Settings, tmp_path: Path) -> Api:
    # uploads go to a temporary folder, never the installation's var/media
    api.client.app.state.settings = settings.model_copy(update={"var_dir": tmp_path})  # type: ignore[attr-defined]
    create_user(db_session, "district_op", PASSWORD, "district_operator", "420106")
    create_user(db_session, "city_op", PASSWORD, "city_operator", "4201")
    return api


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(everyone: Api, role: str) -> None:
    east_case = everyone.as_("admin").report(where=EAST_INCIDENT).json()["id"]
    wrong = []
    for probe in PROBES:
        response = call(everyone, probe, role)
        expected = probe.ok_status if role in probe.ok else expected_refusal(probe, role)
        if response.status_code != expected:
            wrong.append(
                f"{probe.method} {probe.path}: {response.status_code} != {expected} {response.text[:200]}"
            )
        elif probe.path == "/cases" and probe.method == "GET" and role in ("west_op", "west_worker"):
            assert east_case not in [c["id"] for c in response.json()["items"]]
        elif probe.path.startswith("/assessment/kpis?level=grid") and role in CASE_READERS_WEST - {
            "admin",
            "city_op",
            "district_op",
        }:
            assert all(row["code"].startswith(WEST_CODES) for row in response.json()["rows"])
    assert not wrong, "\n".join(wrong)


def test_every_endpoint_is_in_the_matrix(everyone: Api) -> None:
    """Every route of the app has a row, and every row exercises a route that exists."""
    served = set(app_routes(everyone.client.app))  # type: ignore[arg-type]
    assert ("GET", "/cases/{case_id}") in served and ("GET", "/analytics/heatmap") in served
    covered = {(probe.method, probe.template) for probe in PROBES}
    missing = sorted(served - covered)
    assert not missing, f"routes without a matrix row: {missing}"
    stale = sorted(covered - served)
    assert not stale, f"matrix rows for routes the app does not serve: {stale}"


@pytest.mark.parametrize("role", ("anonymous", "admin", "city_op", "west_worker", "planner"))
def test_no_route_answers_5xx_to_junk(everyone: Api, role: str) -> None:
    """Every route of the whole app, with junk ids and bodies: always an answer below 500."""
    headers = {} if role == "anonymous" else everyone.headers(role)
    routes = app_routes(everyone.client.app)  # type: ignore[arg-type]
    failures = []
    for method, template in routes:
        path = template
        for name in JUNK_IDS:
            path = path.replace("{" + name + "}", "99999999999999999999")
        path = path.replace("{token}", "1.2026Q1.%00junk").replace("{fmt}", "json")
        path = path.replace("{layer}", "households").replace("{path}", "..%2f..%2fx")
        path = path.replace("{z}", "99").replace("{x}", "-1").replace("{y}", "abc")
        query = "?max_seconds=0.1" if path.startswith("/events") else "?lon=abc&limit=-1&date=2026-13-45"
        response = everyone.client.request(
            method,
            path + query,
            content=b"\x00{not json",
            headers={**headers, "Content-Type": "application/json"},
        )
        if response.status_code >= 500:
            failures.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)


PUBLIC_BY_DESIGN = {
    ("GET", "/health"): "liveness, no data",
    ("POST", "/auth/token"): "the login itself (rate limited, lockout)",
    ("POST", "/auth/refresh"): "the refresh token in the body is the credential",
    ("POST", "/auth/logout"): "revokes the refresh token in the body",
    ("GET", "/config.json"): "map settings and the residents' page's channel key (public by design)",
    ("GET", "/openapi.json"): "the API description",
    ("GET", "/docs"): "Swagger UI",
    ("GET", "/docs/oauth2-redirect"): "Swagger UI",
    ("GET", "/redoc"): "ReDoc",
    ("GET", "/static/{path}"): "the pages' modules, CSS and Leaflet",
    **{
        ("GET", page): "a page: its data comes from the guarded API"
        for page in ("/", "/map", "/command", "/planner", "/field", "/screen", "/report", "/survey")
    },
    ("GET", "/field-sw.js"): "the field app's service worker (caches no API answers)",
    ("GET", "/field.webmanifest"): "the field app's manifest",
}
"""Routes that need no login, each with the reason. Everything else must be public in PROBES (the
public channel: Open311, residents), be gated otherwise (GATED_OTHERWISE), or answer 401 without a
login."""
GATED_OTHERWISE = {("GET", "/plans/{plan_id}/report.html"): ("?expires=4102444800&sig=forged", 403)}
"""Routes whose key is a signed link rather than a login: (a forged link's query, its refusal)."""
PLACEHOLDERS = {
    "fmt": "json",
    "code": "E0201",
    "action": "accept",
    "layer": "grids",
    "z": "14",
    "x": "13374",
    "y": "6765",
    "ref": "media:sha256:" + "0" * 64,
    "digest": "0" * 64,
    "token": "1.2026Q1.AAAAAAAAAAAAAAAAAAAAAA",
    "path": "js/me.js",
}


def filled(path: str) -> str:
    """The route's path with a plausible value for each parameter (ids: 1)."""
    return re.sub(r"\{(\w+)\}", lambda m: PLACEHOLDERS.get(m.group(1), "1"), path)


def test_every_route_is_guarded_or_public_by_design(everyone: Api) -> None:
    """Every route the app serves: public by design with a reason, public in the matrix, gated by a
    signed link, or 401 without a login. A new route that answers an anonymous caller anything else
    fails here, and so does a public row of the matrix that is not listed with its reason."""
    routes = app_routes(everyone.client.app)  # type: ignore[arg-type]
    stale = (set(PUBLIC_BY_DESIGN) | set(GATED_OTHERWISE)) - set(routes)
    assert not stale, f"listed as public or gated but not served: {sorted(stale)}"
    public_channel = {(p.method, p.template) for p in PROBES if "anonymous" in p.ok}
    unexplained = sorted(
        route
        for route in public_channel - set(PUBLIC_BY_DESIGN) - set(GATED_OTHERWISE)
        if not route[1].startswith(("/open311/", "/residents/"))
    )
    assert not unexplained, f"public in the matrix without a reason in PUBLIC_BY_DESIGN: {unexplained}"
    unguarded = []
    for method, path in routes:
        if (method, path) in PUBLIC_BY_DESIGN or (method, path) in public_channel:
            continue
        query, expected = GATED_OTHERWISE.get((method, path), ("", 401))
        response = everyone.client.request(method, filled(path) + query, json={})
        if response.status_code != expected:
            unguarded.append(f"{method} {path}: {response.status_code} != {expected} {response.text[:120]}")
    assert not unguarded, "routes open to anonymous callers:\n" + "\n".join(unguarded)


def test_error_bodies_never_echo_other_areas(everyone: Api) -> None:
    """A 404 for a case in another street says nothing about that case."""
    case_id = everyone.as_("admin").report(where=EAST_INCIDENT).json()["id"]
    refused = everyone.as_("west_op").get(f"/cases/{case_id}")
    assert refused.status_code == 404 and refused.json() == {"detail": f"case {case_id} not found"}
    missing = everyone.as_("west_op").get("/cases/987654321")
    assert missing.json() == {"detail": "case 987654321 not found"}  # the same answer as for a hidden one
    assert GRID_SW not in refused.text
