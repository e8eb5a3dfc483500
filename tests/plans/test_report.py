"""The plan report from the planner page: built on request (planners/admins), opened by a signed link,
and its contents: legend, scale bar, both languages, metrics explained, grids to review."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.config import Settings
from gis_api.districts.service import get_district
from gis_api.errors import PermissionDeniedError
from gis_api.plans.reports import check_link, report_link
from gis_api.redistrict.report import metrics_table
from gis_api.redistrict.report_figures import BINS, histogram_svg
from gis_api.redistrict.report_review import PP_REVIEW_THRESHOLD, grids_to_review
from tests import tiny_district
from tests.api.app_fixtures import app, areas, auth_headers, client, users
from tests.plans.test_service import draft_split_east_west

__all__ = ["app", "areas", "auth_headers", "client", "users"]
Headers = Callable[[str], dict[str, str]]
SECRET = b"test secret"


@pytest.fixture
def draft(
    areas: dict[str, int], db_session: Session, client: TestClient, settings: Settings, tmp_path: Path
) -> int:
    """A draft plan; reports go to a temporary folder."""
    client.app.state.settings = settings.model_copy(update={"var_dir": tmp_path})  # type: ignore[attr-defined]
    return draft_split_east_west(db_session.connection())


def test_planners_build_and_open_the_report(
    client: TestClient, auth_headers: Headers, draft: int, db_session: Session
) -> None:
    built = client.post(f"/plans/{draft}/report", headers=auth_headers("planner"))
    assert built.status_code == 200, built.text
    body = built.json()
    assert body["cached"] is False and body["url"].startswith(f"/plans/{draft}/report.html?expires=")
    page = client.get(body["url"])  # no bearer token: the link is the key
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]  # its own, not the app's strict one
    assert policy.startswith("sandbox allow-scripts") and "default-src 'none'" in policy
    assert "'self'" not in policy and page.headers["x-frame-options"] == "DENY"
    audited = db_session.execute(
        text("SELECT username, client_addr, target FROM audit_log WHERE action = 'plans.report'")
    ).all()
    assert [tuple(row) for row in audited] == [("planner", "testclient", f"plan {draft}")]
    html = page.text
    expected_texts = ("各网格户数", "Households per grid", "wg-legend", "L.control.scale({imperial: false")
    for expected in (*expected_texts, 'id="wg-review"', 'id="wg-metrics"', "wg-lang-en"):
        assert expected in html, expected
    # the district's name and metric CRS come from its row
    assert "武昌区 · " in html and "EPSG:32650（utm）" in html
    assert "cdn.jsdelivr" not in html and "url(images/" not in html  # works offline and when saved
    english = client.get(body["url"] + "&lang=en").text
    assert 'class="wg-lang-box" checked' in english and 'class="wg-lang-box" checked' not in html
    again = client.post(f"/plans/{draft}/report", headers=auth_headers("admin")).json()
    assert again["cached"] is True


def test_who_may_build_and_open(client: TestClient, auth_headers: Headers, draft: int) -> None:
    assert client.post(f"/plans/{draft}/report", headers=auth_headers("west_op")).status_code == 403
    assert client.post(f"/plans/{draft}/report").status_code == 401
    assert client.post("/plans/999999/report", headers=auth_headers("planner")).status_code == 404
    url = client.post(f"/plans/{draft}/report", headers=auth_headers("planner")).json()["url"]
    assert client.get(url.replace("sig=", "sig=x")).status_code == 403
    assert client.get(url.replace(f"/plans/{draft}/", f"/plans/{draft + 1}/")).status_code == 403
    assert client.get(f"/plans/{draft}/report.html").status_code == 422


def test_links_expire() -> None:
    url = report_link(SECRET, 7, now=1000.0)
    expires = int(url.split("expires=")[1].split("&")[0])
    signature = url.split("sig=")[1]
    check_link(SECRET, 7, expires, signature, now=1000.0 + 599)
    with pytest.raises(PermissionDeniedError, match="expired"):
        check_link(SECRET, 7, expires, signature, now=1000.0 + 601)
    with pytest.raises(PermissionDeniedError, match="not valid"):
        check_link(SECRET, 8, expires, signature, now=1000.0)


def test_grids_to_review(areas: dict[str, int], db_session: Session) -> None:
    """Tiny grids hold one household each (far from a target of 1); one sliver is added."""
    connection = db_session.connection()
    community = connection.execute(
        text("SELECT id FROM community WHERE code = :c"), {"c": tiny_district.WEST + "001"}
    )
    connection.execute(
        text(
            "INSERT INTO grid (plan_id, code, name, community_id, households, geom) VALUES "
            "(:p, :c, '细长', :ci, 1, ST_Multi(ST_MakeEnvelope(114.300, 30.540, 114.3001, 30.560, 4326)))"
        ),
        {"p": areas["plan"], "c": tiny_district.WEST + "00199", "ci": community.scalar_one()},
    )
    connection.execute(text("UPDATE grid SET households = 1"))
    srid = get_district(connection, tiny_district.DISTRICT).metric_srid
    listed = grids_to_review(connection, areas["plan"], target=1.0, metric_srid=srid)
    assert [g.code for g in listed] == [tiny_district.WEST + "00199"]  # on target, but a 10 m × 2 km strip
    assert listed[0].polsby_popper < PP_REVIEW_THRESHOLD and "thin sliver" in listed[0].reasons()
    # 4πA/P² of a 9.6 m × 2.2 km strip is about 0.0135, measured in the district's metric CRS
    assert listed[0].polsby_popper == pytest.approx(0.0135, abs=0.001)
    off = grids_to_review(connection, areas["plan"], target=1.5, metric_srid=srid)  # every grid at −33 %
    assert len(off) == 5 and off[0].code == tiny_district.WEST + "00199"  # the worst first


def test_every_metric_is_named_and_explained() -> None:
    table = metrics_table({"communities": {"pp_mean": 0.5}, "grids": {"pp_mean": 0.4, "new_metric": 3}})
    assert "紧凑度均值" in table and "4π·面积/周长²" in table and "Polsby-Popper mean" in table
    assert "<td>0.4</td>" in table and "new_metric" in table  # an unknown key is still shown


def test_histogram_is_svg_in_both_languages() -> None:
    svg = histogram_svg(
        np.array([280.0, 300, 310, 345]), 300, ("各网格户数", "Households per grid"), ("户数", "households")
    )
    assert svg.startswith("<svg") and svg.count("<rect") == BINS
    assert '<text class="zh"' in svg and '<text class="en"' in svg and "Households per grid" in svg
    assert "#d7191c" in svg  # 345 households: more than 10 % over target, in the map's red
