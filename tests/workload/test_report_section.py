"""The plan report's workload section: the district's last year of cases replayed on the draft."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection

from gis_api.redistrict.report import write_plan_report
from gis_api.workload.report_section import last_year
from tests.workload.world import BEIJING, GRIDS, add_case, add_draft, build


def test_report_replays_the_last_year_of_cases(connection: Connection, tmp_path: Path) -> None:
    build(connection)
    draft = add_draft(connection)
    no_cases = write_plan_report(connection, draft, tmp_path / "empty.html").read_text(encoding="utf-8")
    assert "本区还没有案件" in no_cases
    add_case(connection, "E0201", 114.305, 30.545, datetime(2026, 3, 2, 9, tzinfo=BEIJING), GRIDS[0])
    period = last_year(connection, "420106")
    assert period is not None and period.end == datetime(2026, 3, 3, tzinfo=BEIJING)
    page = write_plan_report(connection, draft, tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'id="wg-workload"' in page and "2025-03-03 .. 2026-03-03" in page
    assert page.count("<tr>", page.index('id="wg-busiest"')) >= 3  # head + both grids of the draft
    assert "workload / mean" in page  # the map layer (named in the layer control)
    assert "Grids above 1.15 × the mean workload" in page  # the busy line, from the weights file
