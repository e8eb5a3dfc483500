"""The `wangge` console command, run as a real subprocess against a real database."""

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from gis_api.db import migrate
from gis_api.db.cluster import EmbeddedCluster
from gis_api.db.roles import API_ROLE, role_url
from tests import tiny_district

DATABASE = f"wangge_test_cli_{os.getpid()}"


def wangge(
    *args: str, url: str | None = None, var_dir: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ) | (env or {})
    env.pop("DATABASE_URL", None)
    if url:
        env["WANGGE_DATABASE_URL"] = url
    if var_dir:
        env["WANGGE_VAR_DIR"] = str(var_dir)
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


def test_db_url_readonly_is_the_qgis_role(cluster: EmbeddedCluster) -> None:
    result = wangge("db", "url", "--readonly")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"postgresql://wangge_readonly@127.0.0.1:{cluster.port()}/wangge"


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


def test_infeasible_redistrict_is_one_line_naming_the_street_and_exit_1(committed_url: str) -> None:
    # two streets run in two worker processes: the error crosses the process boundary
    result = wangge("redistrict", "--workers", "2", "--count", "420106001=50", url=committed_url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    pattern = r"error: street/420106001: district count 50 exceeds the \d+ units of the parent\n"
    assert re.fullmatch(pattern, result.stderr), result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["serve", "--tls-cert", "server.crt"], "--tls-cert and --tls-key go together"),
        (["serve", "--tls-cert", "/nonexistent/server.crt", "--tls-key", "/nonexistent/k"], "does not exist"),
        (["tls", "self-signed", "--host", "not a host"], "neither an IP address nor a DNS name"),
    ],
)
def test_serving_mistakes_are_one_line(args: list[str], message: str) -> None:
    result = wangge(*args)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_external_server_owner_without_superuser_sets_up_the_roles(
    cluster: EmbeddedCluster, tmp_path: Path
) -> None:
    """A DBA gives us a database owned by a role with CREATEROLE (not a superuser): `db up` migrates
    it, `db roles` sets passwords for the API and read-only roles and grants them their rights."""
    import psycopg2

    name, owner = f"wangge_test_external_{os.getpid()}", "wangge_test_owner"
    admin = psycopg2.connect(host="127.0.0.1", port=cluster.port(), user="wangge", dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f"DROP ROLE IF EXISTS {owner}")
        cursor.execute(f"CREATE ROLE {owner} LOGIN CREATEROLE")
        cursor.execute(f'CREATE DATABASE "{name}" OWNER {owner}')
    with psycopg2.connect(host="127.0.0.1", port=cluster.port(), user="wangge", dbname=name) as c:
        c.autocommit = True
        c.cursor().execute("CREATE EXTENSION postgis; CREATE EXTENSION pgrouting")  # the DBA's part
    url = f"postgresql://{owner}@127.0.0.1:{cluster.port()}/{name}"
    env = {"WANGGE_VAR_DIR": str(tmp_path)}
    try:
        assert wangge("db", "up", url=url, env=env).returncode == 0
        roles = wangge("db", "roles", url=url, env=env)
        assert roles.returncode == 0, roles.stderr
        stored = tmp_path / "db_roles.json"
        assert f"their passwords are in {stored}" in roles.stdout
        assert stored.stat().st_mode & 0o777 == 0o600
        password = json.loads(stored.read_text())["wangge_readonly"]
        readonly = wangge("db", "url", "--readonly", url=url, env=env).stdout.strip()
        assert readonly == f"postgresql://wangge_readonly:{password}@127.0.0.1:{cluster.port()}/{name}"
        engine = create_engine(
            role_url(url.replace("postgresql://", "postgresql+psycopg2://"), API_ROLE, tmp_path)
        )
        with engine.connect() as connection, pytest.raises(DBAPIError, match="permission denied"):
            connection.execute(text("DELETE FROM audit_log"))
        with engine.connect() as connection:
            owners = connection.execute(
                text(
                    "SELECT DISTINCT tableowner FROM pg_tables "
                    "WHERE schemaname = 'public' AND tablename <> 'spatial_ref_sys'"  # the DBA's PostGIS
                )
            ).scalars()
            assert set(owners) == {owner}
        engine.dispose()
        sql = wangge("db", "roles", "--sql", url=url, env=env)
        assert "PASSWORD 'CHANGE-ME'" in sql.stdout
        assert 'GRANT SELECT, INSERT ON TABLE public."audit_log" TO "wangge_api";' in sql.stdout
    finally:
        cluster.drop_database(name)
        with admin.cursor() as cursor:
            cursor.execute(f"DROP ROLE IF EXISTS {owner}")
        admin.close()


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


def test_apikey_add_list_revoke(committed_url: str) -> None:
    added = wangge("apikey", "add", "wechat-miniprogram", url=committed_url)
    assert added.returncode == 0, added.stderr
    key = added.stdout.strip().splitlines()[-1]
    assert key.startswith("wg311_") and len(key) > 40
    listed = wangge("apikey", "list", url=committed_url)
    assert "wechat-miniprogram" in listed.stdout and "active" in listed.stdout and key not in listed.stdout
    assert wangge("apikey", "add", "wechat-miniprogram", url=committed_url).returncode == 1
    assert wangge("apikey", "revoke", "wechat-miniprogram", url=committed_url).returncode == 0
    assert "revoked" in wangge("apikey", "list", url=committed_url).stdout
    missing = wangge("apikey", "revoke", "nobody", url=committed_url)
    assert missing.returncode == 1 and missing.stderr.startswith("error: no active API key")


def test_user_disable_and_enable(committed_url: str) -> None:
    made = wangge(
        "user", "add", "cli_op", "--role", "street_operator", "--scope", "420106001", url=committed_url
    )
    assert made.returncode == 0, made.stderr
    disabled = wangge("user", "disable", "cli_op", url=committed_url)
    assert disabled.returncode == 0 and "sessions and event streams were ended" in disabled.stdout
    assert "cli_op" in wangge("user", "list", url=committed_url).stdout
    assert wangge("user", "enable", "cli_op", url=committed_url).returncode == 0
    engine = create_engine(committed_url)
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT active, token_version FROM app_user WHERE username = 'cli_op'")
        ).one()
    engine.dispose()
    assert tuple(row) == (True, 1)
    unknown = wangge("user", "disable", "nobody", url=committed_url)
    assert unknown.returncode == 1 and "no user named" in unknown.stderr


def test_apikey_residents_keeps_the_page_key_in_var(committed_url: str, tmp_path: Path) -> None:
    made = wangge("apikey", "residents", url=committed_url, var_dir=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "channel residents (made;" in made.stdout and "not a secret" in made.stdout
    key = (tmp_path / "residents_api_key").read_text().strip()
    assert key.startswith("wg311_") and key not in made.stdout  # the page gets it, the log does not
    kept = wangge("apikey", "residents", url=committed_url, var_dir=tmp_path)
    assert "channel residents (kept;" in kept.stdout
    assert (tmp_path / "residents_api_key").read_text().strip() == key
    assert wangge("apikey", "revoke", "residents", url=committed_url).returncode == 0
    renewed = wangge("apikey", "residents", url=committed_url, var_dir=tmp_path)
    assert "channel residents-2 (made;" in renewed.stdout
    assert (tmp_path / "residents_api_key").read_text().strip() != key
