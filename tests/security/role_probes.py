"""What the role matrix (test_role_matrix.py) is made of: a probe, the enumeration of the app's
routes, and the state a probe needs set up first (cases, photos, links, tokens) in the two-street
world of tests.security.api_world."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, routing
from starlette.routing import Mount

from gis_api.auth.links import link_secret
from gis_api.cases.surveys import survey_period
from gis_api.residents.tokens import survey_token
from tests.api.app_fixtures import PASSWORD
from tests.security.api_world import INCIDENT, Api

SW_HOUSEHOLD = 2  # tiny_district: the west street's south grid

CASE_PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(32))
RESIDENT_PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(1, 33))

MIN_ROUTES = 60
"""The app has ~80 routes; an enumeration finding fewer is broken (it once found none and passed)."""


@dataclass(frozen=True)
class Probe:
    """One request; `ok` roles get `ok_status`, the rest one of `refused` (per role where it matters).

    `route` is the route template the request exercises, as FastAPI spells it (default: the path
    without its query); `form` sends the body as a form instead of JSON."""

    method: str
    path: str
    ok: frozenset[str]
    ok_status: int = 200
    body: Callable[[Api, dict[str, Any]], Any] | None = None
    setup: Callable[[Api], dict[str, Any]] | None = None
    refused: dict[str, int] | None = None
    route: str = ""
    form: bool = False
    files: bool = False
    values: dict[str, str] = field(default_factory=dict)

    @property
    def template(self) -> str:
        return self.route or self.path.split("?")[0]


def app_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(METHOD, path template) of every route the app serves, pages, mounts and routes hidden from
    the OpenAPI document included; a mount (static files) counts as `GET {mount}/{path}`.

    FastAPI 0.165 keeps included routers as `_IncludedRouter` entries of `app.routes` and flattens
    them with `fastapi.routing.iter_route_contexts` (what its OpenAPI generator uses); older
    releases list the flattened routes in `app.routes` directly."""
    flatten = getattr(routing, "iter_route_contexts", None)
    found = set()
    for entry in list(flatten(app.routes)) if flatten is not None else list(app.routes):
        original = getattr(entry, "original_route", entry)
        if isinstance(original, Mount):
            found.add(("GET", f"{original.path}/{{path}}"))
            continue
        found |= {(method, str(entry.path)) for method in (entry.methods or set()) - {"HEAD"}}
    published = {(m.upper(), path) for path, item in app.openapi()["paths"].items() for m in item}
    assert published <= found, f"published but not enumerated: {sorted(published - found)}"
    assert len(found) > MIN_ROUTES, f"only {len(found)} routes found: the enumeration is broken"
    return sorted(found)


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


def call_body() -> dict[str, Any]:
    return {**report_body(INCIDENT), "description": "来电反映", "caller_phone": "13800001234"}


def hotline_case(api: Api) -> dict[str, Any]:
    response = api.as_("admin").post("/hotline/cases", call_body())
    return {"id": response.json()["id"]}


def active_plan(api: Api) -> dict[str, Any]:
    return {"id": api.world.grid_ids["plan"]}


def worker_member(api: Api) -> dict[str, Any]:
    return {"id": api.world.members["worker"]}


def plan_report(api: Api) -> dict[str, Any]:
    """The active plan's report, built by an admin: its signed link (no login: the link is the key)."""
    built = api.as_("admin").post(f"/plans/{api.world.grid_ids['plan']}/report", {})
    return {"link": built.json()["url"]}


def login_form(api: Api, values: dict[str, Any]) -> dict[str, str]:
    return {"username": "west_op", "password": PASSWORD}


def refresh_body(api: Api, values: dict[str, Any]) -> dict[str, str]:
    """A refresh token of its own (logout revokes it; refresh rotates it)."""
    login = api.client.post("/auth/token", data={"username": "west_op", "password": PASSWORD})
    return {"refresh_token": login.json()["refresh_token"]}


def report_body(where: tuple[float, float]) -> dict[str, Any]:
    return {"category_code": "E0201", "lon": where[0], "lat": where[1]}


def pings_body() -> dict[str, Any]:
    return {"pings": [{"lon": 114.305, "lat": 30.545, "device_time": "2026-03-02T09:00:00+08:00"}]}
