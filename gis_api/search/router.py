"""GET /search: one box for case numbers, roads, buildings, streets, communities and grids."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from gis_api.auth.dependencies import CurrentUser
from gis_api.db.session import SessionDep
from gis_api.inputs import Text
from gis_api.search.schemas import SearchPage
from gis_api.search.service import MAX_QUERY, search

router = APIRouter(tags=["search"])


@router.get("/search")
def search_box(
    session: SessionDep,
    user: CurrentUser,
    q: Annotated[
        Text, Query(min_length=1, max_length=4 * MAX_QUERY, description="case number, name or code")
    ],
) -> SearchPage:
    """Matches of every kind, best first within each; cases only within the caller's area."""
    return search(session, user, q)
