"""A household tile's audit row: written by the tile's own statement when rendered (count = the
features sent), by its own INSERT when the tile comes from the API's memory, committed before the
response either way; the route's session commits each statement on its own (autocommit)."""

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from gis_api.db.session import read_session_factory
from tests.tiles.mvt import decode, tile_of
from tests.tiles.test_router import WHOLE, url

Headers = Callable[[str], dict[str, str]]
AUDIT_SQL = "SELECT username, target, count FROM audit_log WHERE action = 'households.tile' ORDER BY id"


def households_sent(response_content: bytes) -> int:
    layers = decode(response_content)
    return len(layers["households"].features) if "households" in layers else 0


@pytest.mark.parametrize(
    "tile", [tile_of(114.31, 30.55, 14), tile_of(114.305, 30.545, 16)], ids=["z14", "z16"]
)
def test_rendered_and_remembered_tiles_are_each_audited(
    client: TestClient, auth_headers: Headers, db_session: Session, tile: tuple[int, int, int]
) -> None:
    first = client.get(url("households", tile), headers=auth_headers("admin"))
    second = client.get(url("households", tile), headers=auth_headers("admin"))  # from the API's memory
    assert first.status_code == second.status_code == 200 and first.content == second.content
    sent = households_sent(first.content)
    assert sent > 0
    target = "/".join(str(n) for n in tile)
    audit = [tuple(row) for row in db_session.execute(text(AUDIT_SQL))]
    assert audit == [("admin", target, sent), ("admin", target, sent)]


def test_a_revalidated_tile_sends_nothing_and_audits_nothing(
    client: TestClient, auth_headers: Headers, db_session: Session
) -> None:
    tile = tile_of(114.305, 30.545, 16)
    first = client.get(url("households", tile), headers=auth_headers("west_op"))
    etag = first.headers["etag"]
    again = client.get(url("households", tile), headers={**auth_headers("west_op"), "If-None-Match": etag})
    assert again.status_code == 304
    assert len(db_session.execute(text(AUDIT_SQL)).all()) == 1


def test_refused_household_tiles_are_audited_and_other_layers_not(
    client: TestClient, auth_headers: Headers, db_session: Session
) -> None:
    refused = client.get(url("households", tile_of(114.305, 30.545, 16)), headers=auth_headers("planner"))
    assert refused.status_code == 403
    assert client.get(url("grids", WHOLE), headers=auth_headers("admin")).status_code == 200
    actions = db_session.execute(text("SELECT action FROM audit_log ORDER BY id")).scalars().all()
    assert actions == ["households.tile.denied"]


@pytest.fixture
def probe_table(engine: Engine) -> Iterator[str]:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE read_session_probe (n integer)"))
    yield "read_session_probe"
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE read_session_probe"))


def test_read_sessions_commit_each_statement_when_it_returns(engine: Engine, probe_table: str) -> None:
    with read_session_factory(engine)() as session:
        session.execute(text(f"INSERT INTO {probe_table} VALUES (1)"))
        with engine.connect() as other:  # another connection sees it at once: committed
            assert other.execute(text(f"SELECT count(*) FROM {probe_table}")).scalar_one() == 1
        session.rollback()  # nothing left to undo
    with engine.connect() as other:
        assert other.execute(text(f"SELECT count(*) FROM {probe_table}")).scalar_one() == 1
    with engine.connect() as connection:  # the pooled connection is transactional again for others
        connection.execute(text(f"INSERT INTO {probe_table} VALUES (2)"))
        connection.rollback()
        assert connection.execute(text(f"SELECT count(*) FROM {probe_table}")).scalar_one() == 1
