"""wangge notify run|status: deliver residents' report notifications from the outbox."""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

from gis_api.cli.common import sub_parser
from gis_api.config import get_settings


def cmd_notify(args: argparse.Namespace) -> int:
    """Deliver due notifications (once, or until interrupted), or print the outbox's counts."""
    from gis_api.db.session import default_engine
    from gis_api.notify.notifiers import load_notifier
    from gis_api.notify.worker import deliver_due, outbox_status, run_worker

    engine, settings = default_engine(), get_settings()
    if args.action == "status":
        with engine.connect() as connection:
            print(", ".join(f"{key} {value}" for key, value in outbox_status(connection).items()))
        return 0
    notifier = load_notifier(settings)
    print(f"[notify] delivering with the {notifier.name} notifier")
    if args.once:
        print(f"[notify] {deliver_due(engine, notifier, settings.notify_max_attempts)}")
        return 0
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print(f"[notify] {run_worker(engine, notifier, settings.notify_max_attempts, args.interval, stop)}")
    return 0


def register(commands: Any) -> None:
    notify = sub_parser(commands, "notify", cmd_notify, help="deliver notifications of residents' reports")
    notify.add_argument("action", choices=("run", "status"))
    notify.add_argument("--once", action="store_true", help="deliver what is due now, then exit")
    notify.add_argument("--interval", type=float, default=2.0, help="seconds between polls")
