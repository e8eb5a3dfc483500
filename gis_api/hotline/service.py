"""Hotline intake: a phoned-in case with its caller kept apart, duplicate hints, callers' contacts.

The contact goes into case_contact in the same transaction as the case, never into the case's
description, events or live feed; reading it back is for CONTACT_READERS and always audited.
"""

from __future__ import annotations

import math
from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis_api.auth.scope import Principal
from gis_api.auth.service import record_audit
from gis_api.cases.categories import KIND_LETTER, KIND_NAME, CategoryCatalog, Kind, default_catalog
from gis_api.cases.models import Case
from gis_api.cases.reads import visible, visible_case
from gis_api.cases.service import Actor, CaseReport, Position, report_case
from gis_api.cases.workflow import OPEN_STATES
from gis_api.errors import NotFoundError, PermissionDeniedError
from gis_api.hotline.models import CaseContact
from gis_api.hotline.schemas import (
    CategoryTree,
    ContactOut,
    DuplicateOut,
    DuplicatePage,
    HotlineCaseIn,
    KindOut,
    MajorOut,
    MinorOut,
)

DUPLICATE_RADIUS_M = 100.0
MAX_DUPLICATES = 10
METRES_PER_DEGREE = 111_320.0


def take_call(
    session: Session, principal: Principal, actor: Actor, body: HotlineCaseIn, key: str | None
) -> CaseReport:
    """Report the case (source 'hotline') and store its caller; a retried key returns the first case."""
    principal.require_contact_access()  # whoever types a caller's number must be allowed to read it
    report = report_case(session, body, actor, "hotline", key)
    if report.created:
        contact = CaseContact(
            case_id=report.case.id, name=body.caller_name, phone=body.caller_phone, recorded_by=actor.user_id
        )
        session.add(contact)
        session.flush()
    return report


def duplicates(session: Session, actor: Actor, code: str, where: Position) -> DuplicatePage:
    """Open cases of the same 小类 within DUPLICATE_RADIUS_M of the point, nearest first (visible ones)."""
    category = default_catalog().get(code)
    point = func.ST_SetSRID(func.ST_MakePoint(where.lon, where.lat), 4326)
    distance = func.ST_Distance(func.geography(Case.geom), func.geography(point))
    # a bounding-box prefilter the GiST index can use, wide enough at any latitude
    margin = 1.2 * DUPLICATE_RADIUS_M / (METRES_PER_DEGREE * max(math.cos(math.radians(where.lat)), 0.05))
    rows = session.execute(
        select(Case, distance, func.ST_X(Case.geom), func.ST_Y(Case.geom))
        .where(
            Case.category_code == category.code,
            Case.state.in_([state.value for state in OPEN_STATES]),
            Case.geom.intersects(func.ST_Expand(point, margin)),
            func.ST_DWithin(func.geography(Case.geom), func.geography(point), DUPLICATE_RADIUS_M),
            visible(actor),
        )
        .order_by(distance, Case.id)
        .limit(MAX_DUPLICATES)
    ).all()
    items = [
        DuplicateOut(
            id=case.id,
            state=case.state,
            description=case.description,
            distance_m=round(float(metres), 1),
            created_at=case.created_at,
            lon=float(lon),
            lat=float(lat),
        )
        for case, metres, lon, lat in rows
    ]
    return DuplicatePage(category_code=category.code, radius_m=DUPLICATE_RADIUS_M, items=items)


def read_contact(session: Session, principal: Principal, actor: Actor, case_id: int) -> ContactOut:
    """The caller of a visible case, for a contact reader; the read (or refusal) is audited."""
    target = f"case {case_id}"
    try:
        principal.require_contact_access()
    except PermissionDeniedError:
        record_audit(session, principal, "case_contact.denied", target, 0)
        raise
    visible_case(session, actor, case_id)
    contact = session.get(CaseContact, case_id)
    if contact is None:
        raise NotFoundError(f"case {case_id} has no caller contact (it was not taken by the hotline)")
    out = ContactOut(case_id=case_id, name=contact.name, phone=contact.phone, recorded_at=contact.recorded_at)
    record_audit(session, principal, "case_contact.read", target, 1)
    return out


def category_tree(catalog: CategoryCatalog | None = None) -> CategoryTree:
    """部件/事件 → 大类 → 小类 in code order, with the flags a form needs."""
    catalog = catalog or default_catalog()
    majors: dict[Kind, dict[str, MajorOut]] = defaultdict(dict)
    for code in sorted(catalog.categories):
        category = catalog.categories[code]
        major_code = f"{KIND_LETTER[category.kind]}{category.major_code}"
        major = majors[category.kind].setdefault(
            major_code, MajorOut(code=major_code, name=category.major_name, minors=[])
        )
        major.minors.append(
            MinorOut(
                code=code,
                name=category.name,
                photo_on_dispose=category.photo_on_dispose,
                self_dispose=category.self_dispose,
            )
        )
    kinds = [
        KindOut(kind=kind.value, name=KIND_NAME[kind], majors=list(majors[kind].values()))
        for kind in Kind
        if majors[kind]
    ]
    return CategoryTree(version=catalog.version, title=catalog.title, kinds=kinds)
