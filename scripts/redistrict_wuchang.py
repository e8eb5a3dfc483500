"""Planner's script for the Wuchang reference case: redraw 180 uneven communities into the 142
official ones (~3,000 households each) and every community into ~300-household grids, then write
the report and compare the draft with the active plan. Activation stays a deliberate, separate step.

    .venv/bin/python scripts/redistrict_wuchang.py [--seed 420106] [--minimal-disruption] [--out reports/]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gis_api.cli.common import KNOWN_ERRORS, report_error
from gis_api.config import get_settings
from gis_api.db.session import default_engine
from gis_api.demo.sources import DISTRICT_CODE
from gis_api.plans.active import active_plan_id
from gis_api.plans.service import compare_plans
from gis_api.redistrict.report import write_plan_report
from gis_api.redistrict.service import RedistrictOptions, redistrict


def main() -> int:
    """Redistrict, report, compare; print how to activate."""
    parser = argparse.ArgumentParser(description="redistrict the Wuchang demo into official communities")
    parser.add_argument("--seed", type=int, default=get_settings().demo_seed)
    parser.add_argument("--minimal-disruption", action="store_true")
    parser.add_argument("--out", default="reports", help="folder for the HTML report")
    args = parser.parse_args()
    engine = default_engine()
    options = RedistrictOptions(
        seed=args.seed,
        minimal_disruption=args.minimal_disruption,
        official_codes=get_settings().data_dir / "nbs2023_communities.csv",
        name=f"武昌区 142 社区方案 (seed {args.seed})",
        district=DISTRICT_CODE,
    )
    result = redistrict(engine, options, progress=print)
    print(result)
    report = write_plan_report(engine, result.plan_id, Path(args.out) / f"plan_{result.plan_id}.html")
    print(f"report: {report}")
    with engine.connect() as connection:
        active = active_plan_id(connection, DISTRICT_CODE)
        if active is not None:
            print(compare_plans(connection, int(active), result.plan_id))
    print(f"\nto publish it: .venv/bin/wangge plan activate {result.plan_id}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KNOWN_ERRORS as error:  # one line naming the street or file, as `wangge redistrict` prints
        sys.exit(report_error(error))
