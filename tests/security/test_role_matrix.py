"""Every role × every case/Open311/event/assessment endpoint: allowed, or 401/403/404 — never a leak,
never a 5xx. A new endpoint without a row here fails `test_every_endpoint_is_in_the_matrix`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
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


def uploaded_photo(api: Api) -> dict[str, Any]:
    response = api.as_("admin").post("/media", files={"file": ("p.png", PHOTO, "image/png")})
    return {"id": response.json()["ref"]}


def resident_report(api: Api) -> dict[str, Any]:
    """A resident's open report and its token (anyone holding the token may rate it once closed)."""
    form = {"service_code": "E0201", "lat": str(INCIDENT[1]), "long": str(INCIDENT[0])}
    answer = api.client.post("/open311/v2/requests.json", data=form).json()[0]
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
    Probe("GET", "/media/{id}", frozenset(AUTHENTICATED), setup=uploaded_photo),
    Probe("GET", "/districts", frozenset(AUTHENTICATED)),
    Probe("GET", "/open311/discovery.json", frozenset(ROLES)),
    Probe("GET", "/open311/v2/services.json", frozenset(ROLES)),
    Probe("GET", "/open311/v2/services/E0201.xml", frozenset(ROLES)),
    Probe("POST", "/open311/v2/requests.json", frozenset(ROLES), 201, body=lambda a, v: None),
    Probe("GET", "/open311/v2/requests.json", frozenset(ROLES)),
    Probe("GET", "/open311/v2/requests/{id}.json", frozenset(ROLES), setup=fresh_case),
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
        return api.client.post(path, data=form, headers=headers)
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
        elif probe.path.startswith("/assessment/kpis") and role in CASE_READERS_WEST - {
            "admin",
            "city_op",
            "district_op",
        }:
            assert all(row["code"].startswith(WEST_CODES) for row in response.json()["rows"])
    assert not wrong, "\n".join(wrong)


def test_every_endpoint_is_in_the_matrix(everyone: Api) -> None:
    covered = {(p.method, p.path.split("?")[0]) for p in PROBES}
    covered = {(m, path.replace("{id}", "{case_id}")) for m, path in covered} | covered
    ours = ("/cases", "/positions", "/visits", "/assessment", "/events", "/open311", "/members", "/media")
    ours += ("/households", "/residents", "/districts")
    missing = []
    for route in everyone.client.app.routes:  # type: ignore[attr-defined]
        if not isinstance(route, APIRoute) or not route.path.startswith(ours):
            continue
        for method in route.methods or set():
            path = (
                route.path.replace("{request_id}", "{id}")
                .replace("{ref}", "{id}")
                .replace("{report_id}", "{id}")
                .replace("{token}", "{id}")
                .replace("{code}", "E0201")
                .replace("{fmt}", "json")
            )
            variants = {path, path.replace("{case_id}", "{id}"), path.replace("json", "xml")}
            if not any((method, v) in covered for v in variants):
                missing.append(f"{method} {route.path}")
    assert not missing, f"endpoints without a matrix row: {missing}"


@pytest.mark.parametrize("role", ("anonymous", "admin", "west_worker", "planner"))
def test_no_route_answers_5xx_to_junk(everyone: Api, role: str) -> None:
    """Every API route of the whole app, with junk ids and bodies: always an answer below 500."""
    headers = {} if role == "anonymous" else everyone.headers(role)
    failures = []
    for route in everyone.client.app.routes:  # type: ignore[attr-defined]
        if not isinstance(route, APIRoute):
            continue
        for method in (route.methods or set()) - {"HEAD"}:
            path = route.path
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
