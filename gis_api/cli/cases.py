"""wangge escalate and wangge ranking: the supervision and assessment ends of the case loop."""

from __future__ import annotations

import argparse
from typing import Any

from gis_api.cli.common import add_district_option, sub_parser


def cmd_escalate(args: argparse.Namespace) -> int:
    """Raise supervision and the command level of overdue cases of every district (run from cron)."""
    from datetime import datetime

    from sqlalchemy.orm import Session

    from gis_api.cases.service import escalate_overdue
    from gis_api.db.session import default_engine

    now = datetime.fromisoformat(args.now) if args.now else None
    with Session(default_engine()) as session:
        report = escalate_overdue(session, now)
        session.commit()
    print(report)
    return 0


def cmd_ranking(args: argparse.Namespace) -> int:
    """Monthly ranking of streets (考核) of a district or a whole city as CSV or HTML on standard output."""
    from sqlalchemy.orm import Session

    from gis_api.auth.models import Role
    from gis_api.auth.scope import Principal
    from gis_api.cases.kpi import Period
    from gis_api.cases.ranking import ranking_csv, ranking_html, street_ranking
    from gis_api.db.session import default_engine
    from gis_api.districts.service import get_city, resolve_district

    with Session(default_engine()) as session:
        area = (
            get_city(session, args.city).code if args.city else resolve_district(session, args.district).code
        )
        principal = Principal(0, "cli", Role.ADMIN, area)
        ranking = street_ranking(session, principal, Period.month(args.month))
    print(ranking_html(ranking) if args.format == "html" else ranking_csv(ranking))
    return 0


def register(commands: Any) -> None:
    escalate = sub_parser(commands, "escalate", cmd_escalate, help="supervise and escalate overdue cases")
    escalate.add_argument("--now", help="ISO time to evaluate at (default: now)")

    ranking = sub_parser(commands, "ranking", cmd_ranking, help="monthly street ranking (CSV or HTML)")
    ranking.add_argument("--month", required=True, help="YYYY-MM")
    ranking.add_argument("--format", choices=["csv", "html"], default="csv")
    add_district_option(ranking)
    ranking.add_argument("--city", help="4-digit city code: rank the streets of all its districts")
