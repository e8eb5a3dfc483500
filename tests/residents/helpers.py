"""Shared steps of the residents' tests: report through Open311, take a case to closed."""

from __future__ import annotations

from typing import Any

from tests.cases.fixtures import INCIDENT
from tests.security.api_world import Api

FORM = {"service_code": "E0201", "lat": str(INCIDENT[1]), "long": str(INCIDENT[0]), "description": "小广告"}


def resident_report(api: Api, **extra: Any) -> dict[str, Any]:
    """POST an Open311 request as a resident; the answer's first (only) element."""
    response = api.client.post("/open311/v2/requests.json", data=api.keyed({**FORM, **extra}))
    assert response.status_code == 201, response.text
    return dict(response.json()[0])


def close_case(api: Api, case_id: int) -> None:
    """The admin takes the case through the whole loop to closed (dispatch picks a member); the west
    street's operator verifies what the admin disposed (separation of duties)."""
    admin = api.as_("admin")
    for action in ("accept", "register"):
        assert admin.post(f"/cases/{case_id}/actions/{action}", {}).status_code == 200
    assert admin.post(f"/cases/{case_id}/dispatch", {}).status_code == 200
    steps = (("admin", "start"), ("admin", "dispose"), ("west_op", "verify"), ("admin", "close"))
    for actor, action in steps:
        moved = api.as_(actor).post(f"/cases/{case_id}/actions/{action}", {})
        assert moved.status_code == 200, moved.text
