"""Open311 jurisdictions: each district (6-digit jurisdiction_id) and each city (4 digits).

A request filed in a city jurisdiction goes to the district whose grid holds its point; a district
jurisdiction accepts points inside that district only. Without a jurisdiction_id the whole
installation is meant. Names come from the database, never from the code.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_api.auth.scope import ScopeLevel, scope_level
from gis_api.errors import NotFoundError

AREAS_SQL = """
SELECT code, name FROM city UNION ALL SELECT code, name FROM district ORDER BY 1
"""
CONTACT_SUFFIX = "城市运行管理中心"
DEFAULT_CONTACT = "网格化管理" + CONTACT_SUFFIX


@dataclass(frozen=True)
class Jurisdiction:
    """A city or district code ('' = everything served here) and its name."""

    code: str
    name: str

    @property
    def contact(self) -> str:
        return f"{self.name}{CONTACT_SUFFIX}" if self.name else DEFAULT_CONTACT


def jurisdictions(session: Session) -> list[Jurisdiction]:
    """Every city and district served, in code order."""
    return [Jurisdiction(str(code), str(name)) for code, name in session.execute(text(AREAS_SQL))]


def resolve(session: Session, jurisdiction_id: str | None) -> Jurisdiction:
    """The jurisdiction named by a request; with none, everything served (named after the only
    district or city when there is just one). NotFoundError lists the valid ids."""
    known = jurisdictions(session)
    if jurisdiction_id:
        for item in known:
            if item.code == jurisdiction_id:
                return item
        ids = ", ".join(item.code for item in known) or "none"
        raise NotFoundError(f"jurisdiction_id {jurisdiction_id!r} not served here: use one of {ids}")
    districts = [item for item in known if scope_level(item.code) is ScopeLevel.DISTRICT]
    cities = [item for item in known if scope_level(item.code) is ScopeLevel.CITY]
    single = districts if len(districts) == 1 else cities if len(cities) == 1 else []
    return Jurisdiction("", single[0].name if single else "")
