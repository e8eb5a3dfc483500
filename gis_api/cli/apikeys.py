"""wangge apikey add|list|revoke: Open311 API keys, one per channel."""

from __future__ import annotations

import argparse
from typing import Any

from gis_api.cli.common import sub_parser


def cmd_apikey(args: argparse.Namespace) -> int:
    """apikey add NAME (prints the key once) | list | revoke NAME."""
    from sqlalchemy.orm import Session

    from gis_api.db.session import default_engine
    from gis_api.open311.keys import add_key, list_keys, revoke_key

    with Session(default_engine()) as session:
        if args.action == "add":
            key = add_key(session, _name(args))
            print(f"API key for channel {args.name} (shown once, keep it secret):\n{key}")
        elif args.action == "revoke":
            revoke_key(session, _name(args))
            print(f"API key {args.name} revoked")
        else:
            for info in list_keys(session):
                print(info)
    return 0


def _name(args: argparse.Namespace) -> str:
    if not args.name:
        from gis_api.errors import InvalidInputError

        raise InvalidInputError(f"apikey {args.action} needs the channel NAME")
    return str(args.name)


def register(commands: Any) -> None:
    apikey = sub_parser(commands, "apikey", cmd_apikey, help="Open311 API keys (one per channel)")
    apikey.add_argument("action", choices=["add", "list", "revoke"])
    apikey.add_argument("name", nargs="?", help="channel name, e.g. wechat-miniprogram")
