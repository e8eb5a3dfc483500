"""Least privilege in the database: connect as the API role and as the read-only (QGIS) role and
prove what each may and may not do; the owner stays the only one who can change history."""

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from gis_api.app import create_app
from gis_api.config import Settings, get_settings
from gis_api.db import migrate
from gis_api.db.roles import API_ROLE, READONLY_ROLE, role_url
from tests import tiny_district


def role_engine(database_url: str, role: str) -> Engine:
    return create_engine(role_url(database_url, role, get_settings().var_dir))


@pytest.fixture(scope="module")
def api(database_url: str) -> Iterator[Engine]:
    engine = role_engine(database_url, API_ROLE)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def readonly(database_url: str) -> Iterator[Engine]:
    engine = role_engine(database_url, READONLY_ROLE)
    yield engine
    engine.dispose()


def refused(engine: Engine, statement: str, message: str = "permission denied") -> None:
    """The statement fails with `message` (each in its own rolled-back transaction)."""
    with engine.connect() as connection, pytest.raises(DBAPIError, match=message):
        connection.execute(text(statement))


APPEND_ONLY = [
    "UPDATE audit_log SET target = 'rewritten'",
    "DELETE FROM audit_log",
    "TRUNCATE audit_log",
    "UPDATE case_event SET note = 'rewritten'",
    "DELETE FROM case_event",
    "TRUNCATE case_event",
    "UPDATE survey_response SET trust = 5",
    "DELETE FROM survey_response",
    "TRUNCATE survey_response",
    "UPDATE media_upload SET user_id = NULL",
    "DELETE FROM media_upload",
    "DELETE FROM refresh_token",
    "TRUNCATE refresh_token",
]


@pytest.mark.parametrize("statement", APPEND_ONLY)
def test_api_role_cannot_rewrite_history(api: Engine, statement: str) -> None:
    refused(api, statement)


def test_api_role_appends_and_reads_the_audit_log(api: Engine) -> None:
    with api.connect() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_log (username, role, action, scope_code) "
                "VALUES ('probe', 'admin', 'probe', '420106')"
            )
        )
        assert (
            connection.execute(text("SELECT count(*) FROM audit_log WHERE username = 'probe'")).scalar() == 1
        )
        connection.rollback()


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE public.intruder (id int)",
        "CREATE TEMP TABLE intruder (id int)",
        "CREATE SCHEMA intruder",
        "CREATE VIEW public.intruder AS SELECT 1",
        "ALTER TABLE household ADD COLUMN intruder int",
        "DROP TABLE audit_log",
    ],
)
def test_api_role_cannot_change_the_schema(api: Engine, statement: str) -> None:
    refused(api, statement, "permission denied|must be owner")


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM alembic_version",
        "UPDATE street SET name = 'x'",
        "DELETE FROM building",
        "INSERT INTO road_edge (id) VALUES (1)",
        "INSERT INTO household (id, geom) VALUES (1, 'POINT(0 0)')",
        "DELETE FROM household",
        "SELECT * FROM qgis.grid",
        "INSERT INTO city (code, name) VALUES ('9999', 'x')",
        "UPDATE district SET metric_crs = 'EPSG:4547'",
        "DELETE FROM data_layer",
        "UPDATE household SET district_code = '420111'",
        "UPDATE household SET residents = 9",
        "DELETE FROM active_plan",
        "SELECT nextval('water_id_seq')",
        "SELECT setval('incident_id_seq', 1)",
        "INSERT INTO park (kind, geom) VALUES ('park', 'MULTIPOLYGON(((0 0,1 0,1 1,0 0)))')",
        "DELETE FROM park",
        "UPDATE water SET source = 'x'",
        "UPDATE household SET door_label = '1-101'",
        "INSERT INTO api_key (name, key_hash) VALUES ('intruder', repeat('0', 64))",
        "UPDATE api_key SET revoked_at = NULL",
        "DELETE FROM api_key",
        "SELECT nextval('api_key_id_seq')",
    ],
)
def test_api_role_only_reads_what_the_loaders_write(api: Engine, statement: str) -> None:
    refused(api, statement)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM notification_outbox",
        "UPDATE notification_outbox SET delivered_at = now()",
        "DELETE FROM notification_outbox",
        "TRUNCATE notification_outbox",
    ],
)
def test_api_role_only_queues_notifications(api: Engine, statement: str) -> None:
    """The worker (`wangge notify run`, the owner) delivers them; the API neither reads nor marks them."""
    refused(api, statement)


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO app_user (username, password_hash, role, scope_code) VALUES ('x', 'x', 'admin', '42')",
        "UPDATE app_user SET role = 'admin'",
        "UPDATE app_user SET scope_code = '4201'",
        "UPDATE app_user SET token_version = 0",
        "UPDATE app_user SET active = true",
        "DELETE FROM app_user",
    ],
)
def test_api_role_cannot_make_or_change_accounts(api: Engine, statement: str) -> None:
    """`wangge user` makes, links and disables accounts as the owner; the API only logs them in."""
    refused(api, statement)


def test_api_role_logs_in_renews_and_limits(api: Engine) -> None:
    """What login, refresh tokens, lockout, rate limits, Open311 keys and photo uploads need."""
    with api.connect() as connection:
        connection.execute(text("UPDATE app_user SET password_hash = password_hash WHERE false"))
        connection.execute(text("SELECT key_hash FROM api_key LIMIT 1"))
        connection.execute(text("UPDATE refresh_token SET revoked_at = now() WHERE false"))
        for table in ("login_failure", "rate_bucket"):
            connection.execute(text(f"DELETE FROM {table} WHERE false"))
        connection.execute(text("INSERT INTO media_upload (digest) VALUES (repeat('a', 64))"))
        connection.execute(text("SELECT nextval('refresh_token_id_seq')"))
        connection.rollback()


def test_api_role_reads_the_districts_and_moves_households(api: Engine) -> None:
    with api.connect() as connection:
        views = ("active_plan", "active_community", "active_grid")
        for relation in ("city", "district", "data_layer", "park", "survey_response", *views):
            connection.execute(text(f"SELECT * FROM {relation} LIMIT 1"))
        connection.execute(text("UPDATE household SET grid_id = grid_id WHERE false"))
        connection.execute(text("SELECT nextval('incident_id_seq')"))  # it adds cases
        connection.rollback()


def test_api_role_is_no_superuser_and_owns_nothing(api: Engine) -> None:
    with api.connect() as connection:
        row = connection.execute(
            text("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user")
        ).one()
        owned = connection.execute(
            text(
                "SELECT count(*) FROM pg_class "
                "WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
            )
        ).scalar_one()
    assert tuple(row) == (False, False, False)
    assert owned == 0


def test_the_app_connects_as_the_api_role(settings: Settings) -> None:
    app = create_app(settings)
    with app.state.engine.connect() as connection:
        assert connection.execute(text("SELECT current_user")).scalar_one() == API_ROLE


@pytest.fixture
def committed_areas(engine: Engine) -> Iterator[None]:
    """Two districts committed (another role's connection must see them), removed afterwards; the
    second one also has an archived plan that QGIS must not show."""
    with engine.begin() as connection:
        tiny_district.build(connection)
        tiny_district.build_other(connection)
        connection.execute(
            text(
                "INSERT INTO plan (name, status, district_code) VALUES ('old', 'archived', :d);"
                "INSERT INTO data_layer (district_code, layer, synthetic) VALUES (:d, 'grids', true);"
                "INSERT INTO park (name, kind, district_code, geom) VALUES ('公园', 'park', :d, "
                "ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(114.4, 30.5), 4326), 0.001)))"
            ),
            {"d": tiny_district.OTHER},
        )
    yield
    with engine.begin() as connection:
        connection.execute(
            text(
                "TRUNCATE household, grid, community, plan, street, data_layer, park, district, city "
                "RESTART IDENTITY CASCADE"
            )
        )


def test_readonly_role_sees_the_active_plan_not_households(readonly: Engine, committed_areas: None) -> None:
    with readonly.connect() as connection:
        grids = connection.execute(
            text(
                "SELECT district_code, count(*), count(DISTINCT community_code) FROM qgis.grid "
                "GROUP BY 1 ORDER BY 1"
            )
        ).all()
        communities = connection.execute(
            text("SELECT district_code, count(*) FROM qgis.community GROUP BY 1 ORDER BY 1")
        ).all()
        districts = connection.execute(text("SELECT code, city_code, metric_crs FROM qgis.district")).all()
        layers = connection.execute(text("SELECT district_code, layer, synthetic FROM qgis.data_layer")).all()
        parks = connection.execute(text("SELECT district_code, name, kind FROM qgis.park")).all()
        kinds = connection.execute(
            text("SELECT f_table_name, type FROM geometry_columns WHERE f_table_schema = 'qgis'")
        ).all()
        with_district = connection.execute(
            text(
                "SELECT table_name FROM information_schema.columns "
                "WHERE table_schema = 'qgis' AND column_name = 'district_code'"
            )
        ).scalars()
    a, b = tiny_district.DISTRICT, tiny_district.OTHER
    assert [tuple(row) for row in grids] == [(a, 4, 2), (b, 4, 2)]
    assert [tuple(row) for row in communities] == [(a, 2), (b, 2)]
    assert sorted(tuple(row) for row in districts) == [(a, "4201", "EPSG:32650"), (b, "4201", "EPSG:32650")]
    assert [tuple(row) for row in layers] == [(b, "grids", True)]
    assert [tuple(row) for row in parks] == [(b, "公园", "park")]
    assert {name for name, _ in kinds} >= {"district", "street", "community", "grid", "building", "road_edge"}
    assert set(with_district) == {
        "street",
        "community",
        "grid",
        "building",
        "road_edge",
        "road_node",
        "water",
        "park",
        "data_layer",
    }
    personal = ("household", "app_user", "incident", "case_event", "audit_log", "team_member", "grid")
    for table in (*personal, "survey_response", "notification_outbox", "park"):
        refused(readonly, f"SELECT * FROM public.{table} LIMIT 1")


def test_readonly_role_cannot_write(readonly: Engine) -> None:
    refused(
        readonly,
        "INSERT INTO qgis.district (code, name, geom) VALUES ('1', 'x', NULL)",
        "read-only|permission",
    )
    refused(readonly, "CREATE TABLE qgis.intruder (id int)", "read-only|permission")


def test_owner_is_stopped_by_the_trigger_too(connection: Connection) -> None:
    connection.execute(
        text(
            "INSERT INTO audit_log (username, role, action, scope_code) VALUES ('o', 'admin', 'x', '420106')"
        )
    )
    with pytest.raises(DBAPIError, match="audit_log is append-only: UPDATE"), connection.begin_nested():
        connection.execute(text("UPDATE audit_log SET target = 'rewritten'"))
    with pytest.raises(DBAPIError, match="audit_log is append-only: DELETE"), connection.begin_nested():
        connection.execute(text("DELETE FROM audit_log"))


def test_deleting_an_account_keeps_its_audit_rows(connection: Connection) -> None:
    user = connection.execute(
        text(
            "INSERT INTO app_user (username, password_hash, role, scope_code) "
            "VALUES ('gone', 'x', 'admin', '420106') RETURNING id"
        )
    ).scalar_one()
    connection.execute(
        text(
            "INSERT INTO audit_log (user_id, username, role, action, scope_code) "
            "VALUES (:u, 'gone', 'admin', 'read', '420106')"
        ),
        {"u": user},
    )
    connection.execute(text("DELETE FROM app_user WHERE id = :u"), {"u": user})
    kept = connection.execute(text("SELECT user_id, action FROM audit_log WHERE username = 'gone'")).one()
    assert tuple(kept) == (None, "read")


def test_a_table_a_later_migration_adds_gets_grants(engine: Engine, api: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE later_feature (id int)"))
    try:
        migrate.upgrade(engine)  # at head already: only the grants are re-applied
        with api.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM later_feature")).scalar_one() == 0
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE later_feature"))


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE case_kpi SET cases = 2",
        "DELETE FROM case_kpi_month",
        "INSERT INTO case_kpi_day (day, grid_code) VALUES (current_date, '42010600100101')",
        "TRUNCATE case_kpi_day",
        "UPDATE grid_households SET households = 1",
        "UPDATE case_kpi_setting SET zone = 'UTC'",
        "DELETE FROM case_stage",
        "SELECT case_kpi_rebuild()",
        "SELECT case_kpi_sync(ARRAY[1::bigint])",
    ],
)
def test_api_role_only_reads_the_kept_figures(api: Engine, statement: str) -> None:
    """The case tallies and households per grid are written by the database's triggers alone."""
    refused(api, statement)


def test_cases_the_api_role_writes_are_tallied(api: Engine, committed_areas: None) -> None:
    with api.connect() as connection:
        grid = connection.execute(text("SELECT id FROM grid WHERE code = '42010600100101'")).scalar_one()
        case = connection.execute(
            text(
                "INSERT INTO incident (category_code, categories_version, grid_id, grid_code, "
                "community_code, street_code, geom, source) VALUES ('E0201', 'v', :g, "
                "'42010600100101', '420106001001', '420106001', "
                "ST_SetSRID(ST_MakePoint(114.305, 30.545), 4326), 'api') RETURNING id"
            ),
            {"g": grid},
        ).scalar_one()
        for action, state in (("report", "reported"), ("accept", "accepted"), ("register", "registered")):
            connection.execute(
                text(
                    "INSERT INTO case_event (case_id, actor, role, action, to_state) "
                    "VALUES (:c, 'op', 'district_operator', :a, :s)"
                ),
                {"c": case, "a": action, "s": state},
            )
        kept = connection.execute(
            text("SELECT cases, registered, accept_n FROM case_kpi WHERE case_id = :c"), {"c": case}
        )
        assert tuple(kept.one()) == (1, 1, 1)
        month = "SELECT sum(registered) FROM case_kpi_month WHERE grid_code = '42010600100101'"
        assert connection.execute(text(month)).scalar_one() == 1
        households = "SELECT households FROM grid_households WHERE grid_id = :g"
        assert connection.execute(text(households), {"g": grid}).scalar_one() == 1
        connection.rollback()
