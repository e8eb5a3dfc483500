"""Simulated disposals carry the synthetic photo where the category needs one (photo_on_dispose)."""

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from gis_api.cases import media
from gis_api.cases.categories import default_catalog
from gis_api.simulate.photo import stored_photo_ref
from tests.cases.fixtures import World
from tests.simulate import world as sim_world


@pytest.fixture
def world(connection: Connection) -> World:
    return sim_world.build(connection)


def test_synthetic_photo_is_a_stored_png(tmp_path: Path) -> None:
    ref = stored_photo_ref(tmp_path)
    path, content_type = media.locate(tmp_path, ref)
    assert content_type == "image/png" and media.image_kind(path.read_bytes()) == "png"
    assert stored_photo_ref(tmp_path) == ref  # stored once, by content


def test_disposals_of_photo_categories_attach_the_photo(connection: Connection, world: World) -> None:
    full = default_catalog()
    photo_only = {code: c for code, c in full.categories.items() if c.photo_on_dispose}
    catalog = replace(full, categories=photo_only)
    ref = "media:sha256:" + "c" * 64
    report, _ = sim_world.simulate(connection, minutes=30, catalog=catalog, photo_refs=(ref,))
    disposals = (
        connection.execute(text("SELECT media FROM case_event WHERE action IN ('dispose', 'self_dispose')"))
        .scalars()
        .all()
    )
    assert report.stats.closed >= 1 and disposals
    assert all(photos == [ref] for photos in disposals)
