"""wangge apikey add|list|revoke|residents: Open311 API keys, one per channel."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from gis_api.cli.common import sub_parser

if TYPE_CHECKING:
    from gis_api.open311.keys import ProvisionedKey


def cmd_apikey(args: argparse.Namespace) -> int:
    """apikey add NAME (prints the key once) | list | revoke NAME | residents (the residents' page's
    key, kept in var/residents_api_key and handed to the page)."""
    from sqlalchemy.orm import Session

    from gis_api.config import get_settings
    from gis_api.db.session import default_engine
    from gis_api.open311.keys import add_key, list_keys, provision_residents_key, revoke_key

    with Session(default_engine()) as session:
        if args.action == "residents":
            print(residents_key_line(provision_residents_key(session, get_settings().var_dir)))
        elif args.action == "add":
            key = add_key(session, _name(args))
            print(f"API key for channel {args.name} (shown once, keep it secret):\n{key}")
        elif args.action == "revoke":
            revoke_key(session, _name(args))
            print(f"API key {args.name} revoked")
        else:
            for info in list_keys(session):
                print(info)
    return 0


def residents_key_line(provisioned: ProvisionedKey) -> str:
    """One line saying which key the residents' page uses (the key itself is public: see keys.py)."""
    state = "made" if provisioned.created else "kept"
    return (
        f"residents' page API key: channel {provisioned.channel} ({state}; var/residents_api_key, served "
        "to the page in /config.json: it names the channel for rate limits and revocation, not a secret)"
    )


def _name(args: argparse.Namespace) -> str:
    if not args.name:
        from gis_api.errors import InvalidInputError

        raise InvalidInputError(f"apikey {args.action} needs the channel NAME")
    return str(args.name)


def register(commands: Any) -> None:
    apikey = sub_parser(commands, "apikey", cmd_apikey, help="Open311 API keys (one per channel)")
    apikey.add_argument("action", choices=["add", "list", "revoke", "residents"])
    apikey.add_argument("name", nargs="?", help="channel name, e.g. wechat-miniprogram")
