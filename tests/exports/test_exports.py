"""Downloads: the filtered case list, KPI tables and the ranking as .xlsx and CSV, in Beijing time;
Open311 datetimes carry +08:00; no caller contact and no formula ever leaves in an export."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.security.api_world import EAST_INCIDENT, INCIDENT, Api

BEIJING = ZoneInfo("Asia/Shanghai")


def sheet_rows(content: bytes) -> list[list[object]]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


def csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_case_list_xlsx_in_beijing_time(api: Api, db_session: Session) -> None:
    body = {"category_code": "E0201", "lon": INCIDENT[0], "lat": INCIDENT[1], "description": "=HYPERLINK(1)"}
    hotline = api.as_("admin").post("/hotline/cases", {**body, "caller_phone": "13800001234"}).json()
    response = api.as_("admin").get("/exports/cases.xlsx")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="cases.xlsx"' in response.headers["content-disposition"]
    rows = sheet_rows(response.content)
    assert rows[0][:4] == ["案件号", "类别代码", "类别", "状态"] and "上报时间 (北京时间)" in rows[0]
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["案件号"], row["状态"], row["来源"], row["区"], row["街道"]) == (
        hotline["id"],
        "上报",
        "12345热线",
        "武昌区",
        "积玉桥街道",
    )
    created = datetime.fromisoformat(hotline["created_at"]).astimezone(BEIJING)
    assert row["上报时间 (北京时间)"] == created.strftime("%Y-%m-%d %H:%M:%S")
    assert row["描述"] == "=HYPERLINK(1)"  # stored as text, not a formula
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    description_column = rows[0].index("描述") + 1
    assert book.worksheets[0].cell(row=2, column=description_column).data_type == "s"
    assert b"13800001234" not in response.content
    assert "13800001234" not in api.as_("admin").get("/exports/cases.csv").text


def test_case_list_csv_follows_the_filter_and_the_scope(api: Api) -> None:
    west = api.as_("admin").report().json()["id"]
    east = api.as_("admin").report(where=EAST_INCIDENT).json()["id"]
    accepted = api.as_("admin").report().json()["id"]
    api.as_("admin").post(f"/cases/{accepted}/actions/accept", {})
    everything = csv_rows(api.as_("admin").get("/exports/cases.csv").content)
    assert {int(row[0]) for row in everything[1:]} == {west, east, accepted}
    only_accepted = csv_rows(api.as_("admin").get("/exports/cases.csv", params={"state": "accepted"}).content)
    assert [int(row[0]) for row in only_accepted[1:]] == [accepted]
    english = csv_rows(api.as_("west_op").get("/exports/cases.csv", params={"lang": "en"}).content)
    assert (
        english[0][:2] == ["Case", "Category code"] and "Reported (Beijing time, Asia/Shanghai)" in english[0]
    )
    assert {int(row[0]) for row in english[1:]} == {west, accepted}
    assert api.as_("planner").get("/exports/cases.csv").status_code == 403
    assert api.as_("admin").get("/exports/cases.pdf").status_code == 422
    assert api.as_("admin").get("/exports/cases.csv", params={"state": "bogus"}).status_code == 422


def test_kpi_and_ranking_downloads(api: Api) -> None:
    period = {"level": "street", "start": "2026-03-01T00:00:00+08:00", "end": "2026-04-01T00:00:00+08:00"}
    kpis = sheet_rows(api.as_("admin").get("/exports/kpis.xlsx", params=period).content)
    assert kpis[0][:3] == ["代码", "名称", "上报数"]
    assert {row[1] for row in kpis[1:] if row[0]} >= {"积玉桥街道", "杨园街道"}
    assert any("2026-03-01 00:00:00" in str(row[0]) for row in kpis if row and row[0])  # the period note
    ranking = csv_rows(api.as_("west_op").get("/exports/ranking.csv", params={"month": "2026-03"}).content)
    assert ranking[0][:6] == ["名次", "区代码", "区", "街道代码", "街道", "综合得分"]
    assert [row[2:5:2] for row in ranking[1:]] == [["武昌区", "积玉桥街道"]]
    ranking_xlsx = api.as_("admin").get("/exports/ranking.xlsx", params={"month": "2026-03"})
    assert ranking_xlsx.status_code == 200 and len(sheet_rows(ranking_xlsx.content)) >= 3
    assert api.as_("admin").get("/exports/ranking.csv", params={"month": "March"}).status_code == 422


def test_exports_refuse_junk_and_are_audited(api: Api, db_session: Session) -> None:
    """The input rules of gis_api.inputs (control characters, moments with a zone in 2000–2099, real
    months) and the audit trail of what left the system, as for the lists they copy."""
    admin = api.as_("admin")
    for params in ({"category": "E02\x00"}, {"scope": "\x1b"}):
        assert admin.get("/exports/cases.csv", params=params).status_code == 422, params
    naive = {"level": "street", "start": "2026-03-01T00:00:00", "end": "2026-04-01T00:00:00+08:00"}
    far = {"level": "street", "start": "1900-03-01T00:00:00+08:00", "end": "2026-04-01T00:00:00+08:00"}
    for params in (naive, far):
        answer = admin.get("/exports/kpis.csv", params=params)
        assert answer.status_code == 422 and "start" in answer.text, answer.text
    for month in ("0000-01", "2026-13", "２０２６-03"):
        assert admin.get("/exports/ranking.csv", params={"month": month}).status_code in (400, 422), month
    worker_kpis = {
        "level": "worker",
        "start": "2026-03-01T00:00:00+08:00",
        "end": "2026-04-01T00:00:00+08:00",
    }
    assert api.as_("planner").get("/exports/kpis.csv", params=worker_kpis).status_code == 403
    assert admin.get("/exports/cases.csv", params={"state": "reported"}).status_code == 200
    assert admin.get("/exports/ranking.xlsx", params={"month": "2026-03"}).status_code == 200
    audited = db_session.execute(
        text("SELECT action, target FROM audit_log WHERE action LIKE '%.export' ORDER BY id")
    ).all()
    assert [row.action for row in audited] == ["cases.export", "ranking.export"]
    assert audited[0].target.startswith("csv state=reported")


def test_open311_and_ranking_html_speak_beijing_time(api: Api, db_session: Session) -> None:
    case_id = api.as_("admin").report().json()["id"]
    api.as_("admin").post(f"/cases/{case_id}/visibility", {"public": True})  # an operator's case: publish it
    db_session.execute(
        text("UPDATE incident SET created_at = '2026-03-02 01:00:00+00' WHERE id = :c"), {"c": case_id}
    )
    found = api.client.get(f"/open311/v2/requests/{case_id}.json").json()[0]
    assert found["requested_datetime"] == "2026-03-02T09:00:00+08:00"
    assert found["updated_datetime"].endswith("+08:00")
    html = api.as_("admin").get("/assessment/streets/ranking", params={"month": "2026-03", "format": "html"})
    assert "北京时间" in html.text and "UTC" not in html.text
