"""The ETag's data version: the write counters of the layer's tables, read through the statistics
functions for those tables only, equal what pg_stat_user_tables reports for them."""

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.auth.models import Role
from gis_api.auth.scope import Principal
from gis_api.tiles.service import STAMP_SQL, TABLES_BY_LAYER, TileAddress, TileRequest, plan_stamp
from tests import tiny_district

VIEW_SQL = """
SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::text FROM pg_stat_user_tables
WHERE relname = ANY(:tables)
"""


@pytest.mark.parametrize("layer", sorted(TABLES_BY_LAYER))
def test_data_version_equals_the_statistics_view(db_session: Session, layer: str) -> None:
    tiny_district.build(db_session.connection())
    principal = Principal(1, "admin", Role.ADMIN, tiny_district.DISTRICT)
    request = TileRequest(layer, TileAddress(14, 13394, 6730), principal)
    _, _, version = plan_stamp(db_session, request, required=False)
    tables = list(TABLES_BY_LAYER[layer])
    assert version == db_session.execute(text(VIEW_SQL), {"tables": tables}).scalar_one()


def test_data_version_counts_writes(db_session: Session) -> None:
    """Not a comparison of zeros: the migrations' committed rows are counted alike both ways."""
    tables = ["alembic_version", "case_stage", "household"]
    params = {"plan_id": None, "prefix": "4201%", "tables": tables}
    version = db_session.execute(text(STAMP_SQL), params).first()
    assert version is not None and int(version[2]) >= 2  # alembic_version and case_stage rows
    assert version[2] == db_session.execute(text(VIEW_SQL), {"tables": tables}).scalar_one()
