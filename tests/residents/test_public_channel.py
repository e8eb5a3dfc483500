"""The residents' public endpoints under the security rules: input hygiene (no 5xx on NUL, control
characters, odd Unicode, absurd periods), rate limits per address, audited reads of personal data
with the client address, no-store, links that survive a key rotation, and the residents' page's
channel key (provisioned, served in /config.json, revocable)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.auth.links import link_secret
from gis_api.auth.tokens import KeyRing
from gis_api.cases.surveys import survey_period
from gis_api.config import Settings
from gis_api.errors import NotFoundError
from gis_api.open311.keys import (
    add_key,
    channel_of,
    provision_residents_key,
    residents_key_path,
    residents_page_key,
    revoke_key,
)
from gis_api.residents.tokens import read_survey_token, survey_token
from tests.cases.fixtures import GRID_SW, INCIDENT
from tests.residents.helpers import resident_report
from tests.security.api_world import Api

SW_HOUSEHOLD = 2
WHERE = f"lon={INCIDENT[0]}&lat={INCIDENT[1]}"


def audit_rows(session: Session, action: str) -> list[tuple[str, str | None]]:
    rows = session.execute(
        text("SELECT username, client_addr FROM audit_log WHERE action = :a ORDER BY id"), {"a": action}
    ).all()
    return [(str(r[0]), r[1]) for r in rows]


def survey_path(api: Api) -> str:
    settings = api.client.app.state.settings  # type: ignore[attr-defined]
    token = survey_token(link_secret(settings), SW_HOUSEHOLD, survey_period(datetime.now(UTC)))
    return f"/residents/surveys/{token}"


def test_bad_input_gets_4xx_never_5xx(api: Api) -> None:
    report = resident_report(api)
    rating = f"/residents/reports/{report['service_request_id']}/rating"
    survey = survey_path(api)
    answers = {"familiarity": 4, "trust": 4, "satisfaction": 4}
    token = report["token"]
    refused = {
        "rating note NUL": api.client.post(rating, json={"token": token, "rating": 1, "note": "\0"}),
        "rating token ESC": api.client.post(rating, json={"token": "\x1b[2J", "rating": 5}),
        "survey note NUL": api.client.post(survey, json={**answers, "note": "\x00"}),
        "survey token NUL": api.client.get("/residents/surveys/1.2026Q1.%00"),
        "full-width digits": api.client.get("/residents/grid?lon=１１４.３&lat=30.5"),
        "NaN": api.client.get("/residents/grid?lon=NaN&lat=30.5"),
    }
    for what, response in refused.items():
        assert response.status_code == 422, (what, response.text)
    # not a signature (non-ASCII): simply not found, like any wrong token
    assert api.client.post(rating, json={"token": "签名" * 10, "rating": 5}).status_code == 404
    assert api.client.get("/residents/surveys/1.2026Q1.签名签名签名签名签名签名签名签名").status_code == 404


@pytest.mark.parametrize("period", ["9999Q1", "1999Q4", "2026Q4%0A", "２０２６Q4", "2026Q5"])
def test_absurd_survey_periods_are_refused(api: Api, period: str) -> None:
    response = api.as_("west_op").get(f"/assessment/survey-links?grid={GRID_SW}&period={period}")
    assert response.status_code == 422, response.text


def test_report_links_with_odd_signatures_are_refused_not_crashed(api: Api) -> None:
    for sig in ("签名", "%00", "a" * 64):
        response = api.client.get(f"/plans/1/report.html?expires=2000000000&sig={sig}")
        assert response.status_code in (403, 422), (sig, response.text)


def test_public_reads_of_a_person_are_audited_with_the_address_and_never_stored(
    api: Api, db_session: Session
) -> None:
    contact = api.client.get(f"/residents/grid?{WHERE}")
    assert contact.status_code == 200 and contact.headers["cache-control"] == "no-store"
    assert audit_rows(db_session, "residents.grid") == [("public", "testclient")]
    nearby = api.as_("west_worker").get(f"/households/nearby?{WHERE}")
    assert nearby.status_code == 200 and nearby.headers["cache-control"] == "no-store"
    assert audit_rows(db_session, "households.nearby") == [("west_worker", "testclient")]
    sheet = api.as_("west_op").get(f"/assessment/survey-links?grid={GRID_SW}&format=html")
    assert sheet.status_code == 200 and sheet.headers["cache-control"] == "no-store"
    assert "<svg" in sheet.text  # the door QR codes
    assert audit_rows(db_session, "survey.links") == [("west_op", "testclient")]
    for path in ("/residents/areas", survey_path(api)):
        assert api.client.get(path).headers["cache-control"] == "no-store"


def test_residents_endpoints_are_rate_limited_per_address(api: Api, app: FastAPI) -> None:
    app.state.settings = app.state.settings.model_copy(update={"residents_per_minute_per_address": 2})
    answers = [api.client.get(f"/residents/grid?{WHERE}").status_code for _ in range(3)]
    assert answers == [200, 200, 429]
    refused = api.client.post(survey_path(api), json={"familiarity": 4, "trust": 4, "satisfaction": 4})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1


def test_links_survive_a_key_rotation() -> None:
    """Printed survey QR codes and the rating tokens residents hold stay valid after `wangge auth
    rotate-key` (the old key stays in the ring); a key dropped from the ring voids them."""
    old, new = b"old key", b"new key"
    printed = survey_token(KeyRing((old,)), 42, "2026Q4")
    assert read_survey_token(KeyRing((new, old)), printed) == (42, "2026Q4")
    assert survey_token(KeyRing((new, old)), 42, "2026Q4") != printed  # new links: the new key
    with pytest.raises(NotFoundError, match="not valid"):
        read_survey_token(KeyRing((new,)), printed)


def test_the_residents_page_key_is_provisioned_served_and_revocable(
    api: Api, app: FastAPI, db_session: Session, settings: Settings, tmp_path: Path
) -> None:
    app.state.settings = settings.model_copy(update={"var_dir": tmp_path, "residents_api_key": ""})
    assert api.client.get("/config.json").json()["residents_api_key"] == ""
    first = provision_residents_key(db_session, tmp_path)
    key = residents_key_path(tmp_path).read_text().strip()
    assert (first.channel, first.created) == ("residents", True)
    assert channel_of(db_session, key) == "residents"
    assert api.client.get("/config.json").json()["residents_api_key"] == key
    kept = provision_residents_key(db_session, tmp_path)
    assert (kept.channel, kept.created) == ("residents", False)
    assert residents_key_path(tmp_path).read_text().strip() == key
    posted = api.client.post(
        "/open311/v2/requests.json",
        data={"service_code": "E0201", "lat": str(INCIDENT[1]), "long": str(INCIDENT[0]), "api_key": key},
    )
    assert posted.status_code == 201, posted.text
    case = api.get(f"/cases/{posted.json()[0]['service_request_id']}").json()
    assert case["public"] is True and case["events"][0]["actor"] == "open311:residents"
    revoke_key(db_session, "residents")
    again = provision_residents_key(db_session, tmp_path)  # names are never reused
    assert (again.channel, again.created) == ("residents-2", True)
    assert residents_page_key(app.state.settings) not in ("", key)
    override = add_key(db_session, "residents-edge")
    configured = settings.model_copy(update={"var_dir": tmp_path, "residents_api_key": override})
    assert residents_page_key(configured) == override  # WANGGE_RESIDENTS_API_KEY wins over the file
