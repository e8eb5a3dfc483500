"""The `wangge` console command, run as a real subprocess against a real database."""

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from gis_api.db import migrate
from gis_api.db.cluster import EmbeddedCluster
from tests import tiny_district

DATABASE = f"wangge_test_cli_{os.getpid()}"


def wangge(*args: str, url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    if url:
        env["WANGGE_DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "gis_api.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture(scope="module")
def committed_url(cluster: EmbeddedCluster) -> Iterator[str]:
    """A database whose rows are committed, so a subprocess can see them."""
    cluster.drop_database(DATABASE)
    url = cluster.create_database(DATABASE)
    engine = create_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        tiny_district.build(connection)
    engine.dispose()
    yield url
    cluster.drop_database(DATABASE)


def test_db_url_prints_a_psql_url(cluster: EmbeddedCluster) -> None:
    result = wangge("db", "url")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"postgresql://wangge@127.0.0.1:{cluster.port()}/wangge"


def test_check_passes_then_fails_on_planted_overlap(committed_url: str) -> None:
    clean = wangge("check", url=committed_url)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "no problems found" in clean.stdout
    engine = create_engine(committed_url)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE grid SET geom = ST_Multi(ST_Buffer(geom, 0.001)) WHERE code = '42010600100101'")
        )
    engine.dispose()
    broken = wangge("check", url=committed_url)
    assert broken.returncode == 1
    assert "FAIL grid overlaps" in broken.stdout


def test_unknown_plan_is_a_clear_error(committed_url: str) -> None:
    result = wangge("check", "--plan", "9999", url=committed_url)
    assert result.returncode == 1
    assert "plan 9999 does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_external_server_without_postgis_says_how_to_enable_it(cluster: EmbeddedCluster) -> None:
    bare = f"wangge_test_bare_{os.getpid()}"
    import psycopg2

    admin = psycopg2.connect(host="127.0.0.1", port=cluster.port(), user="wangge", dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{bare}"')
        cursor.execute(f'CREATE DATABASE "{bare}"')
    admin.close()
    try:
        # a non-superuser cannot create extensions: connect as such a role
        with psycopg2.connect(host="127.0.0.1", port=cluster.port(), user="wangge", dbname=bare) as c:
            c.autocommit = True
            c.cursor().execute("DROP ROLE IF EXISTS plain; CREATE ROLE plain LOGIN")
        url = f"postgresql://plain@127.0.0.1:{cluster.port()}/{bare}"
        result = wangge("db", "up", url=url)
        assert result.returncode == 1
        assert "CREATE EXTENSION postgis" in result.stderr
    finally:
        cluster.drop_database(bare)


def test_osm_import_for_an_unknown_district_is_one_line(committed_url: str) -> None:
    sample = "data/samples/baoshan_shu/shu_baoshan.osm.pbf"
    result = wangge("osm", "import", sample, "--district", "310113", url=committed_url)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: district '310113' is not loaded; loaded: 420106 武昌区"
    ]


def test_load_households_skip_outside_names_the_rejected_file(committed_url: str, tmp_path) -> None:
    register = tmp_path / "登记.csv"
    register.write_text("id,lon,lat,户数\n901,114.303,30.543,3\n902,114.5,30.7,2\n", encoding="gb18030")
    refused = wangge(
        "load", "households", str(register), "--crs", "wgs84", "--count-column", "户数", url=committed_url
    )
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "1 feature(s) lie outside district 420106" in refused.stderr
    loaded = wangge(
        "load", "households", str(register), "--crs", "wgs84", "--count-column", "户数", "--skip-outside",
        url=committed_url,
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr
    assert (
        f"1 row(s) skipped (1 outside), written with their reasons to {register}.rejected.csv"
        in loaded.stdout
    )


def test_load_records_the_layer_synthetic_on_request(committed_url: str, tmp_path) -> None:
    register = tmp_path / "register.csv"
    register.write_text("id,lon,lat,n\n911,114.303,30.543,3\n", encoding="utf-8")
    command = ["load", "households", str(register), "--crs", "wgs84", "--count-column", "n"]
    layer_sql = "SELECT synthetic, source, licence FROM data_layer WHERE layer = 'households'"
    engine = create_engine(committed_url)
    try:
        real = wangge(*command, "--district", "420106", url=committed_url)
        assert real.returncode == 0, real.stderr
        with engine.connect() as connection:
            assert tuple(connection.execute(text(layer_sql)).one()) == (False, "register.csv", "")
        synthetic = wangge(
            *command,
            "--synthetic",
            "--provenance",
            "合成登记 (脚本生成)",
            "--licence",
            "CC0",
            url=committed_url,
        )
        assert synthetic.returncode == 0, synthetic.stderr
        with engine.connect() as connection:
            assert tuple(connection.execute(text(layer_sql)).one()) == (True, "合成登记 (脚本生成)", "CC0")
    finally:
        engine.dispose()
