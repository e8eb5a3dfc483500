"""wangge user add: accounts scoped to an area code."""

from __future__ import annotations

import argparse
from typing import Any

from gis_api.cli.common import sub_parser


def cmd_user(args: argparse.Namespace) -> int:
    """user add NAME --role ROLE --scope CODE [--password P]."""
    import secrets

    from sqlalchemy.orm import Session

    from gis_api.auth.service import create_user, link_team_member
    from gis_api.db.session import default_engine

    password = args.password or secrets.token_urlsafe(9)
    with Session(default_engine()) as session:
        report = create_user(session, args.name, password, args.role, args.scope)
        if args.member is not None:
            link_team_member(session, args.name, args.member)
    print(f"{report}; password: {password}")
    return 0


def register(commands: Any) -> None:
    user = sub_parser(commands, "user", cmd_user, help="manage accounts")
    user.add_argument("action", choices=["add"])
    user.add_argument("name")
    user.add_argument("--role", required=True)
    user.add_argument("--scope", required=True, help="area code: district, street, community or grid")
    user.add_argument("--password", help="default: a random one, printed")
    user.add_argument("--member", type=int, help="team_member id this account acts as (grid workers)")
