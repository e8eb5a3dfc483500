"""The causes of 500s found by probing, each answered with a 4xx naming the problem: NUL and control
characters in any text field, Unicode digits, 5,000-digit ids, extreme dates, deeply nested JSON,
NaN/Infinity, huge bodies (413, and 422s that never echo them)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.cases.fixtures import INCIDENT
from tests.security.api_world import Api

SW_HOUSEHOLD = 2
HUGE_ID = "9" * 5000
PINGS = {"pings": [{"lon": 114.305, "lat": 30.545, "device_time": "2026-03-02T09:00:00+08:00"}]}


def case_body(**extra: Any) -> dict[str, Any]:
    return {"category_code": "E0201", "lon": INCIDENT[0], "lat": INCIDENT[1], **extra}


def incidents(session: Session) -> int:
    return int(session.execute(text("SELECT count(*) FROM incident")).scalar_one())


@pytest.mark.parametrize("bad", ["\x00", "a\x00b", "\x07bell", "esc\x1b[2J", "\x7f", "\x85", "\ufffe"])
def test_control_characters_in_every_text_field_are_refused(api: Api, db_session: Session, bad: str) -> None:
    case_id = api.registered()
    worker = api.as_("west_worker")
    attempts = {
        "case description": api.post("/cases", case_body(description=bad)),
        "case category": api.post("/cases", case_body(category_code=bad)),
        "action note": api.post(f"/cases/{case_id}/actions/supervise", {"note": bad}),
        "dispatch note": api.post(f"/cases/{case_id}/dispatch", {"note": bad}),
        "visit note": worker.post(
            "/visits", {"household_id": SW_HOUSEHOLD, "visited_at": "2026-03-02T10:00:00+08:00", "note": bad}
        ),
        "survey note": api.post(
            "/assessment/surveys",
            {
                "household_id": SW_HOUSEHOLD,
                "surveyed_at": "2026-03-05T10:00:00+08:00",
                "trust": 4,
                "satisfaction": 5,
                "note": bad,
            },
        ),
        "query parameter": api.get("/cases", params={"state": bad}),
        "open311 field": api.client.post(
            "/open311/v2/requests.json",
            data=api.keyed({"service_code": "E0201", "lat": "30.545", "long": "114.305", "description": bad}),
        ),
        "open311 query": api.client.get("/open311/v2/requests.json", params={"service_code": bad}),
    }
    wrong = {name: r.status_code for name, r in attempts.items() if r.status_code not in (400, 422)}
    assert not wrong, wrong
    assert "control character" in attempts["case description"].text
    assert incidents(db_session) == 1  # only the registered case


def test_escaped_lone_surrogates_and_nul_in_json_are_refused(api: Api, db_session: Session) -> None:
    headers = {**api.headers("admin"), "Content-Type": "application/json"}
    for escaped in (b"\\ud800", b"\\u0000"):
        body = (
            b'{"category_code": "E0201", "lon": 114.305, "lat": 30.545, "description": "a' + escaped + b'"}'
        )
        response = api.client.post("/cases", content=body, headers=headers)
        assert response.status_code == 422, response.text
    assert incidents(db_session) == 0


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/open311/v2/requests/².json", 404),
        ("/open311/v2/requests/８.json", 404),
        ("/open311/v2/requests.json?service_request_id=１２", 400),
        ("/open311/v2/requests.json?service_request_id=2²", 400),
        ("/assessment/streets/ranking?month=２０２６-０３", 422),
        ("/assessment/streets/ranking?month=2026-1²", 422),
        ("/households?bbox=１１４,30,115,31", 422),
        ("/cases/８", 422),
        ("/cases?before_id=²", 422),
        ("/members?scope=４２０１０６", 422),
    ],
)
def test_unicode_digits_are_not_numbers(api: Api, path: str, expected: int) -> None:
    assert api.get(path).status_code == expected


def test_unicode_digits_in_headers_and_bodies(api: Api) -> None:
    stream = api.get("/events/stream?max_seconds=0.1", headers={"Last-Event-ID": "²".encode()})  # type: ignore[dict-item]
    assert stream.status_code == 422 and "ASCII digits" in stream.text
    refused = api.client.post(
        "/open311/v2/requests.json",
        data=api.keyed({"service_code": "E0201", "lat": "３０.５４５", "long": "114.3"}),
    )
    assert refused.status_code == 400 and "ASCII digits" in refused.text
    body = {"household_id": "２", "visited_at": "2026-03-02T10:00:00+08:00"}
    assert api.as_("west_worker").post("/visits", body).status_code == 422


@pytest.mark.parametrize(
    "path",
    [
        f"/cases/{HUGE_ID}",
        f"/open311/v2/requests/{HUGE_ID}.json",
        f"/open311/v2/requests.json?service_request_id={HUGE_ID}",
        f"/cases?before_id={HUGE_ID}",
        f"/plans/{HUGE_ID}",
        f"/households?after_id={HUGE_ID}",
    ],
)
def test_five_thousand_digit_ids_are_4xx(api: Api, path: str) -> None:
    response = api.get(path)
    assert 400 <= response.status_code < 500, response.text[:200]
    assert len(response.content) < 2000  # and the answer does not echo the digits


def test_out_of_range_ids_in_headers_and_bodies(api: Api) -> None:
    assert api.get("/events/stream?max_seconds=0.1", headers={"Last-Event-ID": "9" * 20}).status_code == 422
    reassign = api.post(f"/cases/{api.registered()}/reassign", {"member_id": int(HUGE_ID[:25])})
    assert reassign.status_code == 422


@pytest.mark.parametrize("year", ["0001", "9999", "1899", "2100"])
def test_extreme_dates_are_refused(api: Api, year: str) -> None:
    moment = f"{year}-03-02T09:00:00+08:00"
    kpis = api.get(
        "/assessment/kpis", params={"level": "grid", "start": moment, "end": "2026-04-01T00:00:00+08:00"}
    )
    kpis_end = api.get(
        "/assessment/kpis", params={"level": "grid", "start": "2026-03-01T00:00:00Z", "end": moment}
    )
    ranking = api.get("/assessment/streets/ranking", params={"month": f"{year}-12"})
    open311 = api.client.get("/open311/v2/requests.json", params={"start_date": moment})
    open311_end = api.client.get("/open311/v2/requests.json", params={"end_date": f"{year}-01-01"})
    pings = api.as_("west_worker").post(
        "/positions", {"pings": [{**PINGS["pings"][0], "device_time": moment}]}
    )
    statuses = [r.status_code for r in (kpis, kpis_end, ranking, pings)] + [
        open311.status_code,
        open311_end.status_code,
    ]
    assert statuses == [422, 422, 422, 422, 400, 400]


def test_visits_and_surveys_are_not_in_the_future_nor_before_their_plan(
    api: Api, db_session: Session
) -> None:
    worker = api.as_("west_worker")
    future = worker.post("/visits", {"household_id": SW_HOUSEHOLD, "visited_at": "2099-01-01T10:00:00+08:00"})
    assert future.status_code == 422 and "lies in the future" in future.text
    db_session.execute(
        text(
            "UPDATE plan SET valid_from = '2026-03-01T00:00:00+08:00' "
            "WHERE id IN (SELECT plan_id FROM active_plan)"
        )
    )
    early = worker.post("/visits", {"household_id": SW_HOUSEHOLD, "visited_at": "2026-02-27T10:00:00+08:00"})
    assert early.status_code == 422 and "before the plan" in early.text
    survey = {"household_id": SW_HOUSEHOLD, "trust": 4, "satisfaction": 5}
    assert (
        api.post("/assessment/surveys", {**survey, "surveyed_at": "2099-01-01T00:00:00Z"}).status_code == 422
    )
    assert (
        api.post("/assessment/surveys", {**survey, "surveyed_at": "2026-02-01T00:00:00Z"}).status_code == 422
    )
    assert (
        api.post("/assessment/surveys", {**survey, "surveyed_at": "2026-03-05T10:00:00+08:00"}).status_code
        == 201
    )


@pytest.mark.parametrize("depth", [40, 5000, 100_000])
def test_deeply_nested_json_is_refused(api: Api, depth: int) -> None:
    body = b'{"category_code": "E0201", "description": ' + b"[" * depth + b"]" * depth + b"}"
    response = api.client.post(
        "/cases", content=body, headers={**api.headers("admin"), "Content-Type": "application/json"}
    )
    assert response.status_code == 422 and "nested deeper" in response.text


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_nan_and_infinity_are_refused_with_a_serialisable_error(api: Api, constant: bytes) -> None:
    body = b'{"category_code": "E0201", "lon": ' + constant + b', "lat": 30.545}'
    headers = {**api.headers("admin"), "Content-Type": "application/json"}
    for path in ("/cases", "/locate/batch", "/positions"):
        response = api.client.post(path, content=body, headers=headers)
        assert response.status_code == 422, (path, response.text)
        assert "not a valid JSON number" in response.json()["detail"][0]["msg"]


def test_huge_bodies_are_413_and_422s_never_echo_the_body(api: Api) -> None:
    headers = {**api.headers("admin"), "Content-Type": "application/json"}
    too_big = api.client.post(
        "/cases", content=b'{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}', headers=headers
    )
    assert too_big.status_code == 413 and "larger than" in too_big.text
    long_text = api.post("/cases", case_body(description="长" * 300_000))  # 900 KB, under the limit
    assert long_text.status_code == 422 and len(long_text.content) < 2000
    big_list = api.post("/locate/batch", {"points": [{"lon": "x"}] * 20_000})
    assert big_list.status_code == 422 and len(big_list.content) < 200_000


def test_streamed_body_without_length_is_counted(api: Api) -> None:
    def chunks() -> Any:
        for _ in range(30):
            yield b"a" * 100_000

    headers = {**api.headers("admin"), "Content-Type": "text/plain"}
    response = api.client.post("/cases", content=chunks(), headers=headers)
    assert response.status_code == 413 and "larger than" in response.text
