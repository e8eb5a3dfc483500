"""wangge simulate: a live demo of the case loop."""

from __future__ import annotations

import argparse
from typing import Any

from gis_api.cli.common import add_district_option, sub_parser
from gis_api.config import get_settings
from gis_api.simulate import arguments as simulate_arguments


def cmd_simulate(args: argparse.Namespace) -> int:
    """Stream realistic incidents into the database and move workers to them (Ctrl-C stops)."""
    from gis_api.db.session import default_engine
    from gis_api.simulate.service import run_simulation
    from gis_api.simulate.simulation import SimulationOptions

    options = SimulationOptions(
        rate_per_min=args.rate, minutes=args.minutes, speed=args.speed, seed=args.seed,
        ping_interval_s=args.ping_interval, progress_every=args.progress_every, start=args.start,
    )  # fmt: skip
    print(run_simulation(default_engine(), options, district=args.district))
    return 0


def register(commands: Any) -> None:
    simulate = sub_parser(
        commands, "simulate", cmd_simulate, help="stream simulated incidents and move workers to them"
    )
    positive = simulate_arguments.positive
    simulate.add_argument("--rate", type=positive, default=2.0, help="cases per simulated minute")
    simulate.add_argument(
        "--minutes",
        type=simulate_arguments.minutes,
        default="forever",
        help="simulated minutes, or 'forever'",
    )
    simulate.add_argument(
        "--speed", type=positive, default=1.0, help="simulated seconds per second ('inf': no waiting)"
    )
    simulate.add_argument("--seed", type=int, default=get_settings().demo_seed)
    simulate.add_argument("--ping-interval", type=positive, default=5.0, help="simulated s")
    simulate.add_argument(
        "--progress-every", type=int, default=50, help="print a progress line every N events"
    )
    simulate.add_argument(
        "--start", type=simulate_arguments.start_time, help="simulated start time (default: now)"
    )
    add_district_option(simulate)
