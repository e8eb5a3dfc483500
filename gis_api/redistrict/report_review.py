"""The plan report's list of grids a planner should look at before activating the plan."""

from __future__ import annotations

import html
from dataclasses import dataclass

from sqlalchemy import Connection, text

from gis_api.redistrict.report_text import bi

PP_REVIEW_THRESHOLD = 0.10
"""Polsby-Popper (4π·A/P²) below which a grid is listed as a sliver. It is 1 for a circle and
π·r/(1+r)² for an r:1 rectangle, so 0.10 is a 30:1 strip: for a grid of 0.1 km² about 55 m by
1.7 km, whose far end a worker on foot cannot keep in view. Block-following outlines are ragged, so
ordinary grids stay well above it; the hand-drawn kind rarely falls below 0.15."""
DEVIATION_REVIEW = 0.10
"""Grids further than ±10 % from the target are listed (the optimiser's grid tolerance)."""
REVIEW_SQL = """
SELECT g.code, g.name, c.name AS community, g.households,
       4 * pi() * ST_Area(ST_Transform(g.geom, :srid))
         / nullif(ST_Perimeter(ST_Transform(g.geom, :srid)), 0) ^ 2 AS pp
FROM grid g JOIN community c ON c.id = g.community_id WHERE g.plan_id = :p ORDER BY g.code
"""
"""Shapes are measured in the plan's district's metric CRS (the district row's metric_srid)."""
COLUMNS = (
    ("网格代码", "Grid code"),
    ("网格", "Grid"),
    ("社区", "Community"),
    ("户数", "Households"),
    ("偏差", "Deviation"),
    ("紧凑度", "Polsby-Popper"),
    ("原因", "Why"),
)


@dataclass(frozen=True)
class GridToReview:
    code: str
    name: str
    community: str
    households: int
    deviation: float
    polsby_popper: float

    @property
    def off_target(self) -> bool:
        return abs(self.deviation) > DEVIATION_REVIEW

    @property
    def sliver(self) -> bool:
        return self.polsby_popper < PP_REVIEW_THRESHOLD

    @property
    def severity(self) -> float:
        """How far past the worse of its two limits the grid is (1 = on the limit)."""
        return max(
            abs(self.deviation) / DEVIATION_REVIEW, PP_REVIEW_THRESHOLD / max(self.polsby_popper, 1e-6)
        )

    def reasons(self) -> str:
        found = [bi("户数偏差超过 ±10%", "outside ±10 % of target")] if self.off_target else []
        return "；".join(found + ([bi("细长或曲折", "thin sliver")] if self.sliver else []))


def grids_to_review(
    connection: Connection, plan_id: int, target: float, metric_srid: int
) -> list[GridToReview]:
    """Grids outside ±10 % of the target or below the Polsby-Popper threshold, worst first; shapes
    measured in `metric_srid`, the projected CRS of the plan's district."""
    grids = [
        GridToReview(row.code, row.name, row.community, int(row.households),
                     (row.households - target) / target, float(row.pp or 0.0))
        for row in connection.execute(text(REVIEW_SQL), {"p": plan_id, "srid": metric_srid})
    ]  # fmt: skip
    return sorted((g for g in grids if g.off_target or g.sliver), key=lambda g: -g.severity)


def review_table(grids: list[GridToReview]) -> str:
    """The HTML table of grids to review (or a line saying there are none)."""
    if not grids:
        return f"<p>{bi('没有需要复核的网格。', 'No grid needs a review.')}</p>"
    head = "".join(f"<th>{bi(zh, en)}</th>" for zh, en in COLUMNS)
    rows = "".join(
        f'<tr><td>{g.code}</td><td class="text">{html.escape(g.name)}</td><td class="text">'
        f"{html.escape(g.community)}</td><td>{g.households}</td><td>{g.deviation:+.1%}</td>"
        f'<td>{g.polsby_popper:.3f}</td><td class="text">{g.reasons()}</td></tr>'
        for g in grids
    )
    return f'<table id="wg-review"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
