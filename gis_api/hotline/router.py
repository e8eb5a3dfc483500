"""POST /hotline/cases, GET /hotline/duplicates, GET /cases/{id}/contact and GET /categories."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from gis_api.auth.dependencies import CurrentUser
from gis_api.cases.reads import actor_for
from gis_api.cases.router import CaseId, IdempotencyKey, answer_report
from gis_api.cases.schemas import CaseOut, Latitude, Longitude
from gis_api.cases.service import Position
from gis_api.db.session import SessionDep
from gis_api.hotline.schemas import CategoryTree, ContactOut, DuplicatePage, HotlineCaseIn
from gis_api.hotline.service import category_tree, duplicates, read_contact, take_call
from gis_api.inputs import Text

router = APIRouter(tags=["hotline"])


@router.post("/hotline/cases", status_code=201)
def hotline_case(
    session: SessionDep,
    user: CurrentUser,
    body: HotlineCaseIn,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> CaseOut:
    """A case taken on the 12345 hotline, with its caller's contact (stored apart, never shown to others)."""
    actor = actor_for(session, user)
    key = f"u{user.user_id}:{idempotency_key}" if idempotency_key else None
    report = take_call(session, user, actor, body, key)
    return answer_report(session, actor, report, (body.category_code, body.description), response)


@router.get("/hotline/duplicates")
def duplicate_hints(
    session: SessionDep,
    user: CurrentUser,
    category: Annotated[Text, Query(min_length=1, max_length=16, description="小类 code such as E0201")],
    lon: Longitude,
    lat: Latitude,
    crs: Annotated[Text, Query(max_length=16, description="wgs84, gcj02 or bd09")] = "wgs84",
) -> DuplicatePage:
    """Open cases of the same 小类 within 100 m of the point (shown in the form before submitting)."""
    actor = actor_for(session, user)
    return duplicates(session, actor, category.strip().upper(), Position.parse(lon, lat, crs.strip().lower()))


@router.get("/cases/{case_id}/contact")
def case_contact(session: SessionDep, user: CurrentUser, case_id: CaseId) -> ContactOut:
    """The caller of a hotline case: contact readers (CONTACT_READERS) whose scope holds the case; audited."""
    return read_contact(session, user, actor_for(session, user), case_id)


@router.get("/categories")
def categories(user: CurrentUser) -> CategoryTree:
    """The case categories as 部件/事件 → 大类 → 小类, with the photo-on-dispose rule of each."""
    return category_tree()
