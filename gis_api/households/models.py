"""Buildings (楼栋) and households: personal data, read only within the reader's scope."""

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import BigInteger, ForeignKey, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from gis_api.db.base import Base


class Building(Base):
    """A building footprint (or point) with its household count."""

    __tablename__ = "building"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32), default="residential")
    levels: Mapped[int | None] = mapped_column(SmallInteger)
    households: Mapped[int] = mapped_column(Integer, default=0)
    district_code: Mapped[str] = mapped_column(ForeignKey("district.code"))
    geom: Mapped[WKBElement] = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=False))
    name: Mapped[str | None] = mapped_column(String(128))
    """A landmark's name (OSM `name`), for the search box; most buildings have none."""


class Household(Base):
    """A household point (no names), its building and the grid of the active plan containing it."""

    __tablename__ = "household"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("building.id", ondelete="SET NULL"))
    residents: Mapped[int] = mapped_column(SmallInteger, default=1)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id", ondelete="SET NULL"))
    district_code: Mapped[str] = mapped_column(ForeignKey("district.code"))
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    door_label: Mapped[str | None] = mapped_column(String(32))
    """门牌 as printed at the door (unit-floor/room); None when the register has none."""
