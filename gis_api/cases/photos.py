"""Who may read which photo: its uploader, and whoever may see a case that cites it; every read audited.

Photos are stored by content (gis_api.cases.media), so the same file may have several uploaders and
be cited by several cases. A photo nobody in the caller's area cites is "not found", whether it
exists or not. The public copy for Open311 is a separate endpoint (gis_api.open311.router).
"""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gis_api.auth.scope import Principal
from gis_api.auth.service import record_audit
from gis_api.cases.media import digest_of
from gis_api.cases.models import Case, CaseEvent
from gis_api.cases.reads import actor_for, visible
from gis_api.errors import InvalidInputError, NotFoundError

RECORD_UPLOAD_SQL = """
INSERT INTO media_upload (digest, user_id) VALUES (:d, :u) ON CONFLICT (digest, user_id) DO NOTHING
"""
UPLOADED_BY_SQL = "SELECT 1 FROM media_upload WHERE digest = :d AND user_id = :u"


def record_upload(session: Session, principal: Principal, ref: str) -> None:
    """Remember who uploaded the photo (committed), so they can read it back before citing it."""
    digest = digest_of(ref)
    if digest is not None:
        session.execute(text(RECORD_UPLOAD_SQL), {"d": digest, "u": principal.user_id})
        session.commit()


def visible_case_citing(session: Session, principal: Principal, ref: str) -> int | None:
    """The newest case the caller may see whose history cites the photo (403 for roles without cases)."""
    actor = actor_for(session, principal)
    citing = select(CaseEvent.case_id).where(CaseEvent.media.contains([ref]))
    return session.scalars(
        select(Case.id).where(Case.id.in_(citing), visible(actor)).order_by(Case.id.desc()).limit(1)
    ).first()


def check_photo_access(session: Session, principal: Principal, ref: str) -> None:
    """Allow the uploader or a reader of a citing case, writing the audit row; else NotFoundError."""
    digest = digest_of(ref)
    if digest is None:
        raise InvalidInputError(f"media reference {ref[:80]!r} must look like media:sha256:<64 hex digits>")
    uploaded = session.execute(text(UPLOADED_BY_SQL), {"d": digest, "u": principal.user_id}).first()
    case_id = visible_case_citing(session, principal, ref) if uploaded is None else None
    if uploaded is None and case_id is None:
        raise NotFoundError(f"media {ref} not found")
    target = f"{ref} (own upload)" if uploaded is not None else f"{ref} case {case_id}"
    record_audit(session, principal, "media.read", target, 1)
