"""Fixed administrative areas: cities, districts and their streets, plus water and parks (barriers)."""

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import Computed, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gis_api.db.base import Base


class City(Base):
    """A city (市) with its 4-digit code, e.g. 4201 武汉市: the level above districts."""

    __tablename__ = "city"
    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))


class District(Base):
    """A district (区) with its 6-digit code, e.g. 420106 武昌区, and the CRS its metres are taken in."""

    __tablename__ = "district"
    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    geom: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False))
    city_code: Mapped[str] = mapped_column(ForeignKey("city.code"), Computed("left(code, 4)"))
    metric_crs: Mapped[str] = mapped_column(String(16))
    """'EPSG:n' of the projected CRS for areas, buffers and distances in this district."""
    metric_crs_family: Mapped[str] = mapped_column(String(16))
    """'cgcs2000_gk3', 'utm' or 'custom' (see gis_api.districts.crs)."""
    metric_srid: Mapped[int] = mapped_column(Integer, Computed("CAST(substr(metric_crs, 6) AS integer)"))


class Street(Base):
    """A street (街道) with its 9-digit statistics code, e.g. 420106001 积玉桥街道."""

    __tablename__ = "street"
    code: Mapped[str] = mapped_column(String(9), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    district_code: Mapped[str] = mapped_column(ForeignKey("district.code"))
    geom: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False))


class Water(Base):
    """A river or lake surface inside the district: nobody lives there, and it is a planning barrier."""

    __tablename__ = "water"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(32))
    source_id: Mapped[str | None] = mapped_column(String(64))
    district_code: Mapped[str | None] = mapped_column(ForeignKey("district.code"))
    """The district whose load brought it (a river may run along several)."""
    geom: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False))


class Park(Base):
    """A park, green or recreation ground (leisure=park, landuse=grass…): no-household zone and barrier."""

    __tablename__ = "park"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), default="")
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str | None] = mapped_column(String(32))
    source_id: Mapped[str | None] = mapped_column(String(64))
    district_code: Mapped[str | None] = mapped_column(ForeignKey("district.code"))
    """The district whose load brought it (a park may straddle an outline), as for water."""
    geom: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False))
