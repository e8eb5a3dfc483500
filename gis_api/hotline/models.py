"""The caller of a hotline case, kept in its own table: personal data, never part of the case row."""

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

import gis_api.cases.models  # noqa: F401  (incident must be in the metadata before our foreign key)
from gis_api.db.base import Base


class CaseContact(Base):
    """Name and phone number of whoever called in a case; read by CONTACT_READERS only, audited."""

    __tablename__ = "case_contact"
    case_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(64), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
