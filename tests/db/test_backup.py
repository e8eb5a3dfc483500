"""Restore drill: back up a database of two districts with cases and a photo, wipe it, restore it,
and find the same rows (cities, districts, their data provenance, each district's active plan, a
resident's report with its queued notification, a survey answer, a park, an Open311 key, a photo's
uploader), the same case history and the same photo; a non-empty database is only replaced on
--force."""

import base64
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from gis_api.cases import media
from gis_api.cases.service import Actor, create_case, transition_case
from gis_api.cases.surveys import SurveyAnswers, household_grid, insert_survey
from gis_api.db import migrate
from gis_api.db.backup import BackupError, backup, restore
from gis_api.db.cluster import EmbeddedCluster
from gis_api.db.roles import API_ROLE, role_url
from gis_api.districts.service import record_layer
from gis_api.errors import DomainError
from tests import tiny_district
from tests.cases import fixtures

DATABASE = f"wangge_test_backup_{os.getpid()}"
OPERATOR = Actor("op", "district_operator", scope_code=tiny_district.DISTRICT)
OTHER_OPERATOR = Actor("hs", "district_operator", scope_code=tiny_district.OTHER)
RESIDENT = Actor("open311:test", "resident")
OTHER_POINT = (114.335, 30.545)
"""In the second district's south-west grid."""
MONDAY_9 = datetime(2026, 3, 2, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)
HISTORY = (
    "SELECT id, case_id, at, actor, action, from_state, to_state, note, media::text "
    "FROM case_event ORDER BY id"
)


def wangge(url: str, var_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"WANGGE_DATABASE_URL": url, "WANGGE_VAR_DIR": str(var_dir)}
    return subprocess.run(
        [sys.executable, "-m", "gis_api.cli", *args], capture_output=True, text=True, env=env, timeout=120
    )


COUNTED = (
    "incident",
    "case_event",
    "team_member",
    "grid",
    "household",
    "road_edge",
    "city",
    "district",
    "data_layer",
    "plan",
    "notification_outbox",
    "survey_response",
    "park",
    "api_key",
    "media_upload",
)
PER_DISTRICT = {
    "households": "SELECT count(*) FROM household WHERE district_code = :d",
    "active_grids": "SELECT count(*) FROM active_grid WHERE district_code = :d",
    "layers": "SELECT count(*) FROM data_layer WHERE district_code = :d",
    "cases": "SELECT count(*) FROM incident WHERE grid_code LIKE :d || '%'",
}


def snapshot(engine: Engine) -> tuple[dict[str, int], list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Row counts of the tables we fill (and per district), the case history and the cases."""
    with engine.connect() as connection:
        counts = {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() for table in COUNTED
        }
        for district in (tiny_district.DISTRICT, tiny_district.OTHER):
            for name, query in PER_DISTRICT.items():
                counts[f"{district} {name}"] = connection.execute(text(query), {"d": district}).scalar_one()
        history = [tuple(row) for row in connection.execute(text(HISTORY))]
        cases = [
            tuple(row)
            for row in connection.execute(
                text("SELECT id, state, stage_deadline, ST_AsText(geom) FROM incident ORDER BY id")
            )
        ]
    return counts, history, cases


def fill(engine: Engine, var_dir: Path) -> str:
    """The case world and a second district with their data provenance, two cases with some history
    (one citing a photo) in the first and one in the second; returns the photo's ref."""
    with engine.begin() as connection:
        fixtures.build(connection)
        tiny_district.build_other(connection)
        for district, synthetic in ((tiny_district.DISTRICT, False), (tiny_district.OTHER, True)):
            record_layer(connection, district, "grids", synthetic=synthetic, source="tests")
        record_layer(connection, tiny_district.DISTRICT, "roads", synthetic=False, source="OSM")
    photo = media.store(var_dir, PNG)
    with Session(engine) as session:
        lon, lat = fixtures.INCIDENT
        first = create_case(
            session, category_code="E0201", lon=lon, lat=lat, actor=OPERATOR, now=MONDAY_9, media=[photo.ref]
        ).case
        create_case(session, category_code="E0102", lon=lon, lat=lat, actor=OPERATOR, now=MONDAY_9)
        for action in ("accept", "register"):
            transition_case(session, first.id, action, OPERATOR, now=MONDAY_9)
        lon, lat = OTHER_POINT  # a resident's report: its notification is queued with it
        create_case(
            session, category_code="E0201", lon=lon, lat=lat, actor=RESIDENT, source="open311", now=MONDAY_9
        )
        where = household_grid(session, 2)
        assert where is not None
        insert_survey(session, 2, where, SurveyAnswers(4, 5, 3), MONDAY_9, channel="resident")
        session.execute(
            text(
                "INSERT INTO park (name, kind, district_code, geom) SELECT '公园', 'park', :d, "
                "ST_Multi(ST_Buffer(ST_PointOnSurface(geom), 0.0005)) FROM district WHERE code = :d"
            ),
            {"d": tiny_district.OTHER},
        )
        session.execute(  # who uploaded the photo (it decides who may read it) and a channel's key
            text(
                "INSERT INTO media_upload (digest) VALUES (:d);"
                "INSERT INTO api_key (name, key_hash) VALUES ('wechat', repeat('a', 64))"
            ),
            {"d": photo.ref.removeprefix("media:sha256:")},
        )
        session.commit()
    return photo.ref


def filled_database(cluster: EmbeddedCluster, name: str, var_dir: Path) -> tuple[str, Path, str]:
    cluster.drop_database(name)
    url = cluster.create_database(name)
    engine = create_engine(url)
    migrate.upgrade(engine)
    ref = fill(engine, var_dir)
    engine.dispose()
    return url, var_dir, ref


@pytest.fixture
def filled(cluster: EmbeddedCluster, tmp_path: Path) -> Iterator[tuple[str, Path, str]]:
    """A database of its own, for a test that changes or replaces it."""
    yield filled_database(cluster, DATABASE, tmp_path / "var")
    cluster.drop_database(DATABASE)


@pytest.fixture(scope="module")
def unchanged(
    cluster: EmbeddedCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path, str]]:
    """A database shared by the tests that must leave it as it was."""
    name = f"{DATABASE}_shared"
    yield filled_database(cluster, name, tmp_path_factory.mktemp("shared") / "var")
    cluster.drop_database(name)


def test_backup_wipe_restore_gives_the_same_data(
    cluster: EmbeddedCluster, filled: tuple[str, Path, str], tmp_path: Path
) -> None:
    url, var_dir, ref = filled
    engine = create_engine(url)
    before = snapshot(engine)
    engine.dispose()
    archive = tmp_path / "nightly.tar"
    made = wangge(url, var_dir, "db", "backup", str(archive))
    assert made.returncode == 0, made.stderr
    assert "1 photos" in made.stdout
    assert archive.stat().st_mode & 0o777 == 0o600  # it holds the household register
    digest = ref.removeprefix("media:sha256:")
    with tarfile.open(archive) as tar:
        assert {"manifest.json", "database.dump", f"media/{digest}.png"} <= set(tar.getnames())

    cluster.drop_database(DATABASE)  # the wipe: the database and the photos are gone
    cluster.create_database(DATABASE)
    fresh_var = tmp_path / "fresh-var"
    restored = wangge(url, fresh_var, "db", "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    assert "restored into an empty database" in restored.stdout

    engine = create_engine(url)
    assert snapshot(engine) == before
    assert before[0]["case_event"] == 5 and len(before[1]) == 5
    assert (before[0]["city"], before[0]["district"], before[0]["data_layer"]) == (1, 2, 3)
    new_tables = ("notification_outbox", "survey_response", "park", "api_key", "media_upload")
    assert [before[0][table] for table in new_tables] == [1, 1, 1, 1, 1]
    assert [before[0][f"{d} cases"] for d in (tiny_district.DISTRICT, tiny_district.OTHER)] == [2, 1]
    assert before[0][f"{tiny_district.OTHER} active_grids"] == 4
    with engine.connect() as connection:
        assert migrate.current_revision(engine) is not None
        cited = connection.execute(text("SELECT media::text FROM case_event WHERE action = 'report' LIMIT 1"))
        assert ref in cited.scalar_one()
    engine.dispose()
    assert (fresh_var / "media" / f"{digest}.png").read_bytes() == PNG
    # grants are re-applied for this server's roles: the API can read and append again
    api = create_engine(role_url(url, API_ROLE, fresh_var))
    with api.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM case_event")).scalar_one() == 5
        assert connection.execute(text("SELECT count(*) FROM active_plan")).scalar_one() == 2
    api.dispose()


def test_restore_refuses_a_non_empty_database_without_force(
    filled: tuple[str, Path, str], tmp_path: Path
) -> None:
    url, var_dir, _ = filled
    archive = tmp_path / "backup.tar"
    engine = create_engine(url)
    backup(engine, var_dir, archive, progress=quiet)
    with Session(engine) as session:  # work done after the backup
        lon, lat = fixtures.INCIDENT
        create_case(session, category_code="E0201", lon=lon, lat=lat, actor=OPERATOR, now=MONDAY_9)
        session.commit()
    after_backup = snapshot(engine)
    refused = wangge(url, var_dir, "db", "restore", str(archive))
    assert refused.returncode == 1
    assert "is not empty" in refused.stderr and "--force" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert snapshot(engine) == after_backup  # nothing touched

    summary = restore(engine, var_dir, archive, force=True, progress=quiet)
    assert summary.replaced
    counts, history, _ = snapshot(engine)
    assert counts["incident"] == after_backup[0]["incident"] - 1
    assert len(history) == len(after_backup[1]) - 1
    engine.dispose()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("not a tar", "is not a wangge backup"),
        ("truncated", "cannot be read whole|holds no database.dump"),
        ("tampered dump", "does not match its checksum"),
        ("tampered photo", "does not match its digest"),
        ("other format", "is not a wangge backup of format"),
    ],
)
def test_a_damaged_archive_is_refused_and_changes_nothing(
    unchanged: tuple[str, Path, str], tmp_path: Path, damage: str, message: str
) -> None:
    url, var_dir, _ = unchanged
    archive = tmp_path / "backup.tar"
    engine = create_engine(url)
    backup(engine, var_dir, archive, progress=quiet)
    data = archive.read_bytes()
    if damage == "not a tar":
        archive.write_bytes(b"PK\x03\x04 a zip file, not ours")
    elif damage == "truncated":
        with tarfile.open(archive) as tar:  # the manifest whole (it grows with the tables), the rest cut
            manifest = tar.getmember("manifest.json")
        archive.write_bytes(data[: manifest.offset_data + manifest.size + 2000])
    elif damage == "other format":
        archive.write_bytes(data.replace(b'"wangge-backup-1"', b'"wangge-backup-9"', 1))
    else:
        with tarfile.open(archive) as tar:
            name = (
                "database.dump"
                if damage == "tampered dump"
                else next(n for n in tar.getnames() if "media/" in n)
            )
            inner = tar.extractfile(name).read()  # type: ignore[union-attr]
        offset = data.find(inner[-64:])
        archive.write_bytes(data[:offset] + bytes(64) + data[offset + 64 :])
    before = snapshot(engine)
    with pytest.raises(DomainError, match=message):
        restore(engine, var_dir, archive, force=True, progress=quiet)
    assert snapshot(engine) == before
    engine.dispose()


def test_backup_needs_a_writable_place(unchanged: tuple[str, Path, str], tmp_path: Path) -> None:
    url, var_dir, _ = unchanged
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    engine = create_engine(url)
    with pytest.raises(BackupError, match="cannot write the backup to"):
        backup(engine, var_dir, blocker / "backup.tar", progress=quiet)
    engine.dispose()
    assert [p.name for p in tmp_path.iterdir()] == ["a-file"]  # no partial file left


def quiet(message: str) -> None:
    """Progress lines are not needed here."""
