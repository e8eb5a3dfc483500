"""Per district and layer: whether the data is real or synthetic, where it came from, its licence."""

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from gis_api.areas.models import City, District
from gis_api.db.base import Base

__all__ = ["City", "DataLayer", "District"]


class DataLayer(Base):
    """One loaded layer of a district (streets, households, ...): synthetic or real, and its source."""

    __tablename__ = "data_layer"
    district_code: Mapped[str] = mapped_column(
        ForeignKey("district.code", ondelete="CASCADE"), primary_key=True
    )
    layer: Mapped[str] = mapped_column(String(16), primary_key=True)
    synthetic: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(Text, default="")
    licence: Mapped[str] = mapped_column(Text, default="")
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
