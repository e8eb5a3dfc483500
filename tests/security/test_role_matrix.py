"""Every role × every case/Open311/event/assessment/residents endpoint: allowed, or 401/403/404 —
never a leak, never a 5xx. A new endpoint without a row here fails
`test_every_endpoint_is_in_the_matrix`; any route of the app (pages included) that is neither public
by design nor refused without a login fails `test_every_route_is_guarded_or_public_by_design`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlalchemy.orm import Session

from gis_api.auth.links import link_secret
from gis_api.auth.service import create_user
from gis_api.cases.surveys import survey_period
from gis_api.config import Settings
from gis_api.residents.tokens import survey_token
from tests.api.app_fixtures import PASSWORD
from tests.cases.fixtures import GRID_SW
from tests.security.api_world import EAST_INCIDENT, INCIDENT, Api

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
SW_HOUSEHOLD = 2  # tiny_district: the west street's south grid
WEST_CODES = ("420106001",)
PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(32)
CASE_PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(32))
RESIDENT_PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(1, 33))


@dataclass(frozen=True)
class Probe:
    """One request; `ok` roles get `ok_status`, the rest one of `refused` (per role where it matters)."""

    method: str
    path: str
    ok: frozenset[str]
    ok_status: int = 200
    body: Callable[[Api, dict[str, Any]], Any] | None = None
    setup: Callable[[Api], dict[str, Any]] | None = None
    refused: dict[str, int] | None = None


def fresh_case(api: Api) -> dict[str, Any]:
    return {"id": api.as_("admin").report().json()["id"]}


def public_case(api: Api) -> dict[str, Any]:
    """A west case the admin published on the Open311 feed."""
    case_id = api.as_("admin").report().json()["id"]
    api.as_("admin").post(f"/cases/{case_id}/visibility", {"public": True})
    return {"id": case_id}


def registered_case(api: Api) -> dict[str, Any]:
    return {"id": api.registered()}


def dispatched_case(api: Api) -> dict[str, Any]:
    """A dispatched case and another candidate that was free at dispatch time (to reassign to)."""
    case_id = api.registered()
    decision = api.as_("admin").post(f"/cases/{case_id}/dispatch", {}).json()
    others = [
        c["member_id"]
        for c in decision["explanation"]["candidates"]
        if c["member_id"] != decision["member_id"]
    ]
    return {"id": case_id, "other": others[0]}


def case_photo(api: Api) -> dict[str, Any]:
    """A photo (other bytes than the role's own upload) the admin attached to a west case."""
    response = api.as_("admin").post("/media", files={"file": ("p.png", CASE_PHOTO, "image/png")})
    ref = response.json()["ref"]
    assert api.as_("admin").report(media=[ref]).status_code == 201
    return {"id": ref}


def resident_photo(api: Api) -> dict[str, Any]:
    """A photo a resident attached to an Open311 report: its public copy's digest."""
    form = {"service_code": "E0201", "lat": str(INCIDENT[1]), "long": str(INCIDENT[0])}
    photo = {"media": ("p.png", RESIDENT_PHOTO, "image/png")}
    posted = api.client.post("/open311/v2/requests.json", data=api.keyed(form), files=photo)
    request_id = posted.json()[0]["service_request_id"]
    media_url = api.client.get(f"/open311/v2/requests/{request_id}.json").json()[0]["media_url"]
    return {"id": media_url.rsplit("/", 1)[1]}


def resident_report(api: Api) -> dict[str, Any]:
    """A resident's open report and its token (anyone holding the token may rate it once closed)."""
    form = {"service_code": "E0201", "lat": str(INCIDENT[1]), "long": str(INCIDENT[0])}
    answer = api.client.post("/open311/v2/requests.json", data=api.keyed(form)).json()[0]
    return {"id": answer["service_request_id"], "token": answer["token"]}


def survey_link(api: Api) -> dict[str, Any]:
    settings = api.client.app.state.settings  # type: ignore[attr-defined]
    return {"id": survey_token(link_secret(settings), SW_HOUSEHOLD, survey_period(datetime.now(UTC)))}


def out_of_scope(ok: set[str]) -> dict[str, int]:
    """Expected refusal per role for an object in the west street's south grid."""
    hidden = {"east_op": 404, "north_worker": 404, "anonymous": 401, "planner": 403}
    return {role: hidden.get(role, 403) for role in ROLES if role not in ok}


PROBES: list[Probe] = [
    Probe("POST", "/cases", frozenset(CASE_READERS_WEST), 201, body=lambda a, v: _report_body(INCIDENT)),
    Probe("GET", "/cases", frozenset(AUTHENTICATED - {"planner"})),
    Probe("GET", "/cases/counters", frozenset(AUTHENTICATED - {"planner"})),
    Probe("GET", "/cases/{id}", frozenset(CASE_READERS_WEST), setup=fresh_case),
    Probe("GET", "/cases/{id}/route?lon=114.300&lat=30.550", frozenset(CASE_READERS_WEST), setup=fresh_case),
    Probe("POST", "/cases/{id}/actions/{action}", frozenset(OPERATORS_WEST), setup=fresh_case),
    Probe("POST", "/cases/{id}/dispatch", frozenset(OPERATORS_WEST), setup=registered_case),
    Probe(
        "POST",
        "/cases/{id}/reassign",
        frozenset(OPERATORS_WEST),
        setup=dispatched_case,
        body=lambda a, v: {"member_id": v["other"]},
        refused={"north_worker": 403},  # the role check comes first and says nothing about the case
    ),
    Probe("POST", "/cases/{id}/supervise", frozenset(SENIOR_WEST), setup=fresh_case),
    Probe(
        "POST",
        "/cases/{id}/visibility",
        frozenset(OPERATORS_WEST),
        setup=fresh_case,
        body=lambda a, v: {"public": True},
        refused={"north_worker": 403},  # the role check comes first
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
    ),
    Probe("POST", "/positions", frozenset({"west_worker", "north_worker"}), body=lambda a, v: _pings()),
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
    Probe("POST", "/media", frozenset(AUTHENTICATED), 201),
    Probe("GET", "/media/{id}", frozenset(CASE_READERS_WEST), setup=case_photo),
    Probe("GET", "/districts", frozenset(AUTHENTICATED)),
    Probe("GET", "/open311/discovery.json", frozenset(ROLES)),
    Probe("GET", "/open311/v2/services.json", frozenset(ROLES)),
    Probe("GET", "/open311/v2/services/E0201.xml", frozenset(ROLES)),
    Probe("POST", "/open311/v2/requests.json", frozenset(ROLES), 201, body=lambda a, v: None),
    Probe("GET", "/open311/v2/requests.json", frozenset(ROLES)),
    Probe("GET", "/open311/v2/requests/{id}.json", frozenset(ROLES), setup=public_case),
    Probe("GET", "/open311/v2/media/{id}", frozenset(ROLES), setup=resident_photo),
    Probe(
        "GET",
        "/assessment/survey-links?grid=" + GRID_SW,
        frozenset(OPERATORS_WEST),
        refused={"east_op": 404, "north_worker": 403, "west_worker": 403, "planner": 403},
    ),
    Probe("GET", "/households", frozenset(AUTHENTICATED - {"planner"})),
    Probe("GET", "/households/nearby?lon=114.305&lat=30.545", frozenset(AUTHENTICATED - {"planner"})),
    # public: the token, not the role, decides (an open report cannot be rated yet: 409 for all)
    Probe("GET", "/residents/grid?lon=114.305&lat=30.545", frozenset(ROLES)),
    Probe("GET", "/residents/areas", frozenset(ROLES)),
    Probe(
        "POST",
        "/residents/reports/{id}/rating",
        frozenset(ROLES),
        409,
        setup=resident_report,
        body=lambda a, v: {"token": v["token"], "rating": 5},
    ),
    Probe("GET", "/residents/surveys/{id}", frozenset(ROLES), setup=survey_link),
    Probe(
        "POST",
        "/residents/surveys/{id}",
        frozenset(ROLES),
        201,
        setup=survey_link,
        body=lambda a, v: {"familiarity": 4, "trust": 4, "satisfaction": 5},
    ),
]


def _report_body(where: tuple[float, float]) -> dict[str, Any]:
    return {"category_code": "E0201", "lon": where[0], "lat": where[1]}


def _pings() -> dict[str, Any]:
    return {"pings": [{"lon": 114.305, "lat": 30.545, "device_time": "2026-03-02T09:00:00+08:00"}]}


def expected_refusal(probe: Probe, role: str) -> int:
    if role == "anonymous":
        return 401
    if probe.refused and role in probe.refused:
        return probe.refused[role]
    if probe.setup is not None:
        return out_of_scope(set(probe.ok))[role]
    return 403


def call(api: Api, probe: Probe, role: str) -> Any:
    values = probe.setup(api) if probe.setup else {}
    path = probe.path.replace("{id}", str(values.get("id", 0))).replace("{action}", "accept")
    headers = {} if role == "anonymous" else api.headers(role)
    if probe.path.startswith("/open311/v2/requests.json") and probe.method == "POST":
        form = {
            "service_code": "E0201",
            "lat": str(INCIDENT[1]),
            "long": str(INCIDENT[0]),
            "description": role,
        }
        # the public channel authenticates the channel (api_key), whoever is logged in
        return api.client.post(path, data=api.keyed(form), headers=headers)
    if probe.path == "/media" and probe.method == "POST":
        return api.client.post(path, files={"file": ("p.png", PHOTO, "image/png")}, headers=headers)
    body = probe.body(api, values) if probe.body else {}
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


def app_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(METHOD, path template) of every route the app serves, pages, mounts and routes hidden from
    the OpenAPI document included. Since FastAPI 0.16x `app.routes` holds the included routers, not
    their APIRoutes (walking it for APIRoute finds nothing); iter_route_contexts walks into them."""
    found = set()
    for context in iter_route_contexts(app.routes):
        methods = getattr(context.original_route, "methods", None) or {"MOUNT"}
        found |= {(method, str(context.path)) for method in methods - {"HEAD"}}
    published = {(m.upper(), path) for path, item in app.openapi()["paths"].items() for m in item}
    assert published <= found, f"published but not enumerated: {sorted(published - found)}"
    assert len(found) > 60, f"only {len(found)} routes found: the enumeration is broken"
    return sorted(found)


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
    ("MOUNT", "/static"): "the pages' modules, CSS and Leaflet",
    **{
        ("GET", page): "a page: its data comes from the guarded API"
        for page in ("/", "/map", "/command", "/planner", "/field", "/report", "/survey")
    },
    ("GET", "/field-sw.js"): "the field app's service worker (caches no API answers)",
    ("GET", "/field.webmanifest"): "the field app's manifest",
}
"""Routes that need no login, each with the reason. Everything else must be in PROBES with
`anonymous` allowed (the public channel: Open311, residents), be gated otherwise (GATED_OTHERWISE),
or answer 401 without a login."""
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
}


def filled(path: str) -> str:
    """The route's path with a plausible value for each parameter (ids: 1)."""
    return re.sub(r"\{(\w+)\}", lambda m: PLACEHOLDERS.get(m.group(1), "1"), path)


def test_every_route_is_guarded_or_public_by_design(everyone: Api) -> None:
    """Every route the app serves (faces-field's pages and residents' routes included): public by
    design with a reason, public in the matrix, gated by a signed link, or 401 without a login. A new
    route that answers an anonymous caller anything else fails here."""
    routes = app_routes(everyone.client.app)  # type: ignore[arg-type]
    stale = (set(PUBLIC_BY_DESIGN) | set(GATED_OTHERWISE)) - set(routes)
    assert not stale, f"listed as public or gated but not served: {sorted(stale)}"
    public_in_matrix = {(p.method, p.path.split("?")[0]) for p in PROBES if "anonymous" in p.ok}
    unguarded = []
    for method, path in routes:
        if (method, path) in PUBLIC_BY_DESIGN or public_in_matrix & set(matrix_spellings(method, path)):
            continue
        query, expected = GATED_OTHERWISE.get((method, path), ("", 401))
        response = everyone.client.request(method, filled(path) + query, json={})
        if response.status_code != expected:
            unguarded.append(f"{method} {path}: {response.status_code} != {expected} {response.text[:120]}")
    assert not unguarded, "routes open to anonymous callers:\n" + "\n".join(unguarded)


def matrix_spellings(method: str, path: str) -> list[tuple[str, str]]:
    """How a matrix row may spell the route (`{id}` for its object, json/xml, a real category)."""
    for name in ("request_id", "ref", "report_id", "token", "digest", "case_id"):
        path = path.replace("{" + name + "}", "{id}")
    path = path.replace("{code}", "E0201").replace("{fmt}", "json")
    variants = (path, path.replace("json", "xml"), path.replace("{id}", "{case_id}"))
    return [(method, variant) for variant in variants]


def test_every_endpoint_is_in_the_matrix(everyone: Api) -> None:
    covered = {(p.method, p.path.split("?")[0]) for p in PROBES}
    covered = {(m, path.replace("{id}", "{case_id}")) for m, path in covered} | covered
    ours = ("/cases", "/positions", "/visits", "/assessment", "/events", "/open311", "/members", "/media")
    ours += ("/households", "/residents", "/districts")
    missing = []
    for method, route_path in app_routes(everyone.client.app):  # type: ignore[arg-type]
        if route_path.startswith(ours) and not covered & set(matrix_spellings(method, route_path)):
            missing.append(f"{method} {route_path}")
    assert not missing, f"endpoints without a matrix row: {missing}"


@pytest.mark.parametrize("role", ("anonymous", "admin", "west_worker", "planner"))
def test_no_route_answers_5xx_to_junk(everyone: Api, role: str) -> None:
    """Every API route of the whole app, with junk ids and bodies: always an answer below 500."""
    headers = {} if role == "anonymous" else everyone.headers(role)
    failures = []
    for method, route_path in app_routes(everyone.client.app):  # type: ignore[arg-type]
        if method == "MOUNT":
            continue
        path = route_path
        for name in ("case_id", "request_id", "id", "code", "action", "report_id", "token", "plan_id"):
            path = path.replace("{" + name + "}", "99999999999999999999")
        path = path.replace("{fmt}", "json")
        query = "?max_seconds=0.1" if path.startswith("/events") else "?lon=abc&limit=-1"
        response = everyone.client.request(
            method,
            path + query,
            content=b"\x00{not json",
            headers={**headers, "Content-Type": "application/json"},
        )
        if response.status_code >= 500:
            failures.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)


def test_error_bodies_never_echo_other_areas(everyone: Api) -> None:
    """A 404 for a case in another street says nothing about that case."""
    case_id = everyone.as_("admin").report(where=EAST_INCIDENT).json()["id"]
    refused = everyone.as_("west_op").get(f"/cases/{case_id}")
    assert refused.status_code == 404 and refused.json() == {"detail": f"case {case_id} not found"}
    missing = everyone.as_("west_op").get("/cases/987654321")
    assert missing.json() == {"detail": "case 987654321 not found"}  # the same answer as for a hidden one
    assert GRID_SW not in refused.text
