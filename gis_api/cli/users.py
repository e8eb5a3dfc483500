"""wangge user add|list|disable|enable: accounts scoped to an area code; wangge auth rotate-key."""

from __future__ import annotations

import argparse
from typing import Any

from gis_api.cli.common import sub_parser


def cmd_user(args: argparse.Namespace) -> int:
    """user add NAME --role ROLE --scope CODE [--password P] | list | disable NAME | enable NAME."""
    from sqlalchemy.orm import Session

    from gis_api.auth.service import list_users, set_user_active
    from gis_api.db.session import default_engine
    from gis_api.errors import InvalidInputError

    with Session(default_engine()) as session:
        if args.action == "list":
            for report in list_users(session):
                print(report)
            return 0
        if not args.name:
            raise InvalidInputError(f"user {args.action} needs the account NAME")
        if args.action == "add":
            return _add(session, args)
        set_user_active(session, args.name, args.action == "enable")
    ended = "; its sessions and event streams were ended" if args.action == "disable" else ""
    print(f"user {args.name} {args.action}d{ended}")
    return 0


def _add(session: Any, args: argparse.Namespace) -> int:
    import secrets

    from gis_api.auth.service import create_user, link_team_member
    from gis_api.errors import InvalidInputError

    if not args.role or not args.scope:
        raise InvalidInputError("user add needs --role and --scope")
    password = args.password or secrets.token_urlsafe(9)
    report = create_user(session, args.name, password, args.role, args.scope)
    if args.member is not None:
        link_team_member(session, args.name, args.member)
    print(f"{report}; password: {password}")
    return 0


def cmd_auth(args: argparse.Namespace) -> int:
    """auth rotate-key: a new token signing key on top of var/auth_secret (older ones still verify)."""
    from gis_api.auth.tokens import rotate_secret_file
    from gis_api.config import get_settings
    from gis_api.errors import InvalidInputError

    settings = get_settings()
    if settings.auth_secret:
        raise InvalidInputError(
            "WANGGE_AUTH_SECRET is set: rotate by setting a new one and moving the old key to "
            "WANGGE_AUTH_PREVIOUS_SECRETS"
        )
    kid = rotate_secret_file(settings)
    print(f"new signing key {kid}; tokens of the earlier keys stay valid until they expire")
    return 0


def register(commands: Any) -> None:
    from gis_api.auth.models import Role
    from gis_api.auth.scope import ScopeLevel

    user = sub_parser(commands, "user", cmd_user, help="manage accounts")
    user.add_argument("action", choices=["add", "list", "disable", "enable"])
    user.add_argument("name", nargs="?")
    user.add_argument("--role", help=", ".join(role.value for role in Role))
    user.add_argument("--scope", help=f"area code: {', '.join(level.value for level in ScopeLevel)}")
    user.add_argument("--password", help="default: a random one, printed")
    user.add_argument("--member", type=int, help="team_member id this account acts as (grid workers)")
    auth = sub_parser(commands, "auth", cmd_auth, help="token signing keys")
    auth.add_argument("action", choices=["rotate-key"])
