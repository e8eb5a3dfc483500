"""`wangge district add|list` and the --district convention, as real subprocesses: every domain error
is one line on stderr with exit status 1, never a traceback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from gis_api.db import migrate
from gis_api.db.cluster import EmbeddedCluster
from tests import tiny_district
from tests.cli.test_commands import wangge

DATABASE = f"wangge_test_cli_districts_{os.getpid()}"
AMAP = Path(__file__).resolve().parents[1] / "fixtures" / "loaders" / "wuchang_district_amap_gcj02.geojson"


@pytest.fixture(scope="module")
def url(cluster: EmbeddedCluster) -> Iterator[str]:
    """A migrated, empty database whose rows the subprocesses can see."""
    cluster.drop_database(DATABASE)
    database_url = cluster.create_database(DATABASE)
    engine = create_engine(database_url)
    migrate.upgrade(engine)
    engine.dispose()
    yield database_url
    cluster.drop_database(DATABASE)


def fails_with(result: object, message: str) -> None:
    """Exit status 1 and one error line (after any progress lines) that names the problem."""
    assert result.returncode == 1, result.stdout  # type: ignore[attr-defined]
    stderr = result.stderr  # type: ignore[attr-defined]
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert "Traceback" not in stderr and len(errors) == 1 and stderr.rstrip().endswith(errors[0]), stderr
    assert message in errors[0], errors[0]


def test_district_add_from_a_bare_gcj02_outline_then_list(url: str) -> None:
    fails_with(wangge("check", url=url), "no district is loaded: add one with `wangge district add")
    add = ["district", "add", "420106", "--name", "武昌区", "--outline", str(AMAP), "--crs", "gcj02"]
    fails_with(wangge(*add, url=url), "city 4201 is not known yet: give its name with --city-name NAME")
    added = wangge(*add, "--city-name", "武汉市", url=url)
    assert added.returncode == 0, added.stderr
    assert "district 420106 武昌区 added (new city 4201 武汉市)" in added.stdout
    assert "metric CRS EPSG:4547 (cgcs2000_gk3)" in added.stdout
    listed = wangge("district", "list", url=url)
    assert listed.returncode == 0 and "420106  武昌区" in listed.stdout and "EPSG:4547" in listed.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["district", "add", "42010", "--name", "x", "--outline", str(AMAP)], "must be 6 digits"),
        (["district", "add", "420107", "--name", "青山区"], "district add needs --outline"),
        (
            ["district", "add", "420107", "--name", "青山区", "--outline", "/nonexistent.geojson"],
            "nonexistent",
        ),
        (
            ["district", "add", "420107", "--name", "x", "--outline", str(AMAP), "--metric-crs", "EPSG:4326"],
            "is not a projected CRS in metres",
        ),
        (["plan", "list", "--district", "999999"], "district '999999' is not loaded"),
        (["ranking", "--month", "2026-03", "--city", "3101"], "city '3101' is not loaded"),
    ],
)
def test_domain_errors_are_one_line(url: str, args: list[str], message: str) -> None:
    fails_with(wangge(*args, url=url), message)


def test_several_districts_need_district(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        tiny_district.build_other(connection)
    engine.dispose()
    fails_with(wangge("check", url=url), "2 districts are loaded (420106 武昌区, 420111 洪山区): choose one")
    checked = wangge("check", "--district", "420111", url=url)
    assert checked.returncode == 0 and "no problems found" in checked.stdout, checked.stdout + checked.stderr
    fails_with(wangge("redistrict", "--district", "420106", url=url), "no streets loaded in district 420106")
    plans = wangge("plan", "list", "--district", "420111", url=url)
    assert plans.returncode == 0 and "420111 active" in plans.stdout
