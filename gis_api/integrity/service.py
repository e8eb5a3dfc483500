"""Find gaps, overlaps, nesting errors, orphans and mismatched households in one district's plan.

Differences are measured in the district's metric CRS (metres). A gap or overlap counts when it is
more than SLIVER_WIDTH_M wide somewhere: thinner slivers are floating-point noise from reprojection.
Streets and households are those of the plan's district; other districts are never looked at.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, text

from gis_api.districts.service import get_district, resolve_district
from gis_api.errors import NotFoundError
from gis_api.plans.active import is_active, plan_district, require_active_plan

AREA_TOLERANCE_M2 = 1.0
SLIVER_WIDTH_M = 0.1
EXAMPLES = 5

GAP_SQL = {
    "street gaps (district not covered by streets)": """
        SELECT d.code, ST_Transform(ST_Difference(d.geom, ST_Union(s.geom)), :srid)
        FROM district d JOIN street s ON s.district_code = d.code
        WHERE d.code = :district GROUP BY d.code, d.geom""",
    "community gaps (street not covered by its communities)": """
        SELECT s.code, ST_Transform(ST_Difference(s.geom, ST_Union(c.geom)), :srid)
        FROM street s JOIN community c ON c.street_code = s.code AND c.plan_id = :plan_id
        GROUP BY s.code, s.geom""",
    "grid gaps (community not covered by its grids)": """
        SELECT c.code, ST_Transform(ST_Difference(c.geom, ST_Union(g.geom)), :srid)
        FROM community c JOIN grid g ON g.community_id = c.id
        WHERE c.plan_id = :plan_id GROUP BY c.code, c.geom""",
}

OVERLAP_SQL = {
    "street overlaps": """
        SELECT a.code || ' × ' || b.code, ST_Transform(ST_Intersection(a.geom, b.geom), :srid)
        FROM street a JOIN street b ON a.code < b.code AND a.geom && b.geom
        WHERE a.district_code = :district AND b.district_code = :district
          AND (ST_Overlaps(a.geom, b.geom) OR ST_Within(a.geom, b.geom) OR ST_Within(b.geom, a.geom))""",
    "community overlaps": """
        SELECT a.code || ' × ' || b.code, ST_Transform(ST_Intersection(a.geom, b.geom), :srid)
        FROM community a JOIN community b
          ON a.plan_id = b.plan_id AND a.id < b.id AND a.geom && b.geom
        WHERE a.plan_id = :plan_id
          AND (ST_Overlaps(a.geom, b.geom) OR ST_Within(a.geom, b.geom) OR ST_Within(b.geom, a.geom))""",
    "grid overlaps": """
        SELECT a.code || ' × ' || b.code, ST_Transform(ST_Intersection(a.geom, b.geom), :srid)
        FROM grid a JOIN grid b ON a.plan_id = b.plan_id AND a.id < b.id AND a.geom && b.geom
        WHERE a.plan_id = :plan_id
          AND (ST_Overlaps(a.geom, b.geom) OR ST_Within(a.geom, b.geom) OR ST_Within(b.geom, a.geom))""",
}

NESTING_SQL = {
    "communities outside their street": """
        SELECT c.code, ST_Transform(ST_Difference(c.geom, s.geom), :srid)
        FROM community c JOIN street s ON s.code = c.street_code WHERE c.plan_id = :plan_id""",
    "grids outside their community": """
        SELECT g.code, ST_Transform(ST_Difference(g.geom, c.geom), :srid)
        FROM grid g JOIN community c ON c.id = g.community_id WHERE g.plan_id = :plan_id""",
}

COUNT_SQL = {
    "communities without grids": """
        SELECT c.code FROM community c WHERE c.plan_id = :plan_id
          AND NOT EXISTS (SELECT 1 FROM grid g WHERE g.community_id = c.id)""",
    "grids whose code does not start with their community's code": """
        SELECT g.code FROM grid g JOIN community c ON c.id = g.community_id
        WHERE g.plan_id = :plan_id AND left(g.code, 12) <> c.code""",
    "households without a grid": """
        SELECT h.id::text FROM household h WHERE h.grid_id IS NULL AND h.district_code = :district""",
    "households in a grid of another plan": """
        SELECT h.id::text FROM household h JOIN grid g ON g.id = h.grid_id
        WHERE h.district_code = :district AND g.plan_id <> :plan_id""",
}

# Households outside their grid, and whether another household shares their exact point (one hash
# join over the households, whatever the table's statistics say).
OUTSIDE_SQL = """
    WITH outside AS (
        SELECT h.id, g.code, ST_X(h.geom) AS x, ST_Y(h.geom) AS y
        FROM household h JOIN grid g ON g.id = h.grid_id
        WHERE h.district_code = :district AND g.plan_id = :plan_id AND NOT ST_Covers(g.geom, h.geom)),
    shared AS (
        SELECT p.x, p.y FROM (SELECT DISTINCT x, y FROM outside) p
        JOIN household h ON h.district_code = :district AND ST_X(h.geom) = p.x AND ST_Y(h.geom) = p.y
        GROUP BY p.x, p.y HAVING count(*) > 1)
    SELECT o.id::text, o.code, s.x IS NOT NULL
    FROM outside o LEFT JOIN shared s ON s.x = o.x AND s.y = o.y
    ORDER BY o.id"""
OUTSIDE = "households outside their grid"
BY_ASSIGNMENT = "grids defined by assignment (households sharing one address point outside the grid)"


@dataclass
class Finding:
    """One kind of problem with how many objects have it and a few examples.

    An "info" finding reports something to know that is not an error (it never fails the check)."""

    check: str
    count: int
    examples: list[str] = field(default_factory=list)
    severity: str = "error"
    note: str = ""

    @property
    def failed(self) -> bool:
        """True for an error finding with a positive count."""
        return self.severity == "error" and self.count > 0


@dataclass
class IntegrityReport:
    """All findings for one plan; `ok` when none of them has a positive count."""

    plan_id: int
    findings: list[Finding]

    @property
    def ok(self) -> bool:
        """True when no error finding has a positive count (info findings never fail)."""
        return not any(finding.failed for finding in self.findings)

    def __str__(self) -> str:
        lines = [f"integrity check of plan {self.plan_id}:"]
        for finding in self.findings:
            mark = "FAIL" if finding.failed else ("info" if finding.count else "ok  ")
            examples = f"  e.g. {', '.join(finding.examples)}" if finding.examples else ""
            note = f" ({finding.note})" if finding.note else ""
            lines.append(f"  {mark} {finding.check}: {finding.count}{note}{examples}")
        lines.append("result: " + ("no problems found" if self.ok else "problems found"))
        return "\n".join(lines)


@dataclass(frozen=True)
class Target:
    """The plan checked, its district and the district's metric SRID."""

    plan_id: int
    district: str
    srid: int

    @property
    def params(self) -> dict[str, object]:
        return {"plan_id": self.plan_id, "district": self.district, "srid": self.srid}


def _area_findings(connection: Connection, queries: dict[str, str], target: Target) -> list[Finding]:
    """Rows (label, difference geometry) wider than a sliver become one finding per query."""
    findings = []
    for check, sql in queries.items():
        measured = (
            f"SELECT label, ST_Area(diff) FROM ({sql}) AS found(label, diff) "
            "WHERE ST_Area(diff) > :min_area AND NOT ST_IsEmpty(ST_Buffer(diff, -:half_width))"
        )
        rows = connection.execute(
            text(measured),
            {**target.params, "min_area": AREA_TOLERANCE_M2, "half_width": SLIVER_WIDTH_M / 2},
        ).all()
        bad = [(label, area) for label, area in rows]
        examples = [f"{label} ({area:,.0f} m²)" for label, area in bad[:EXAMPLES]]
        findings.append(Finding(check, len(bad), examples))
    return findings


def _count_findings(connection: Connection, target: Target, is_active: bool) -> list[Finding]:
    """Referential checks; household checks only make sense for the active plan they point into."""
    findings = []
    for check, sql in COUNT_SQL.items():
        if check.startswith("households") and not is_active:
            continue
        labels = list(connection.execute(text(sql), target.params).scalars())
        findings.append(Finding(check, len(labels), labels[:EXAMPLES]))
    if is_active:
        findings += _outside_findings(connection, target)
    return findings


def _outside_findings(connection: Connection, target: Target) -> list[Finding]:
    """Households outside their grid fail the check, unless they share their point with others:
    no polygon can separate households registered at one point (a compound's address), so those
    grids are defined by assignment and reported as information (see README, Redistricting)."""
    rows = connection.execute(text(OUTSIDE_SQL), target.params).all()
    lone = [household for household, _, shared in rows if not shared]
    grids = sorted({code for _, code, shared in rows if shared})
    shared_count = len(rows) - len(lone)
    return [
        Finding(OUTSIDE, len(lone), lone[:EXAMPLES]),
        Finding(BY_ASSIGNMENT, len(grids), grids[:EXAMPLES], "info", f"{shared_count:,} households"),
    ]


def check_plan(
    connection: Connection, plan_id: int | None = None, district: str | None = None
) -> IntegrityReport:
    """Run every check on a plan: the given one, else the active plan of `district` (or of the
    only district)."""
    if plan_id is None:
        plan_id = require_active_plan(connection, resolve_district(connection, district).code)
    owner = plan_district(connection, plan_id)
    if district is not None and owner != district:
        raise NotFoundError(f"plan {plan_id} belongs to district {owner}, not {district}")
    target = Target(plan_id, owner, get_district(connection, owner).metric_srid)
    findings = _area_findings(connection, GAP_SQL, target)
    findings += _area_findings(connection, OVERLAP_SQL, target)
    findings += _area_findings(connection, NESTING_SQL, target)
    findings += _count_findings(connection, target, is_active(connection, plan_id))
    return IntegrityReport(plan_id, findings)
