"""GET /households: household points within the caller's scope, paged, audited."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from gis_api.auth.dependencies import CurrentUser
from gis_api.db.session import SessionDep
from gis_api.households.schemas import HouseholdPage, HouseholdQuery, NearbyPage, NearbyQuery
from gis_api.households.service import nearby_households, read_households

router = APIRouter(tags=["households"])


@router.get("/households")
def households(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    query: Annotated[HouseholdQuery, Query()],
) -> HouseholdPage:
    """A GeoJSON page of households in scope; follow `next` (keyset on id) for the rest."""
    rows = read_households(session, user, query)
    next_url = None
    if rows.last_id is not None and len(rows.features) == query.limit:
        # the path and query only: the Host header is the client's to choose, never copied into links
        following = request.url.remove_query_params("offset").include_query_params(after_id=rows.last_id)
        next_url = request.app.state.settings.public_link(f"{following.path}?{following.query}")
    return HouseholdPage(
        features=rows.features,
        count=len(rows.features),
        limit=query.limit,
        scope_code=user.scope_code,
        next=next_url,
    )


@router.get("/households/nearby")
def nearby(session: SessionDep, user: CurrentUser, query: Annotated[NearbyQuery, Query()]) -> NearbyPage:
    """Households of the caller's area near a point (number, building, 门牌, distance; nothing else),
    nearest first, for a grid worker picking the door of a visit. Audited."""
    return nearby_households(session, user, query)
