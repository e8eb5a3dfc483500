"""Routable road network in pgRouting's layout (id, source, target, cost, reverse_cost)."""

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from gis_api.db.base import Base


class RoadNode(Base):
    """A road network vertex (intersection or dead end)."""

    __tablename__ = "road_node"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    component: Mapped[int] = mapped_column(BigInteger, default=0)
    district_code: Mapped[str | None] = mapped_column(ForeignKey("district.code"))
    """The district whose `wangge load roads` brought it (ids are unique across districts)."""
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))


class RoadEdge(Base):
    """A road segment between two nodes, with its length and travel time by road class."""

    __tablename__ = "road_edge"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source: Mapped[int] = mapped_column(BigInteger)
    target: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str | None] = mapped_column(String(128))
    road_class: Mapped[str] = mapped_column(String(32))
    oneway: Mapped[bool] = mapped_column(Boolean, default=False)
    length_m: Mapped[float] = mapped_column(Float)
    speed_kmh: Mapped[float] = mapped_column(Float)
    travel_time_s: Mapped[float] = mapped_column(Float)
    cost: Mapped[float] = mapped_column(Float)
    reverse_cost: Mapped[float] = mapped_column(Float)
    district_code: Mapped[str | None] = mapped_column(ForeignKey("district.code"))
    geom: Mapped[WKBElement] = mapped_column(Geometry("LINESTRING", srid=4326, spatial_index=False))
