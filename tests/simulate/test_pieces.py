"""The event loop, route paths, case plans and the simulate command's arguments (no database)."""

import argparse
import math
import os
import signal
import time

import numpy as np
import pytest

from gis_api.cli import build_parser
from gis_api.errors import InvalidInputError
from gis_api.simulate.behaviour import Behaviour, CasePlan
from gis_api.simulate.loop import EventLoop
from gis_api.simulate.path import RoutePath
from gis_api.simulate.service import stop_on_interrupt
from gis_api.simulate.simulation import SimulationOptions


def test_loop_runs_timers_in_time_order_then_insertion_order() -> None:
    loop, seen = EventLoop(speed=math.inf), list[str]()
    loop.at(5, lambda: seen.append("b"))
    loop.at(1, lambda: seen.append("a"))
    loop.at(5, lambda: seen.append("c"))
    loop.at(9, lambda: seen.append("late"))
    loop.run(until_s=6)
    assert seen == ["a", "b", "c"]
    assert loop.now_s == 6 and loop.pending == 1


def test_loop_paces_against_the_wall_clock() -> None:
    loop = EventLoop(speed=100)
    loop.at(20, lambda: None)
    began = time.monotonic()
    loop.run()
    assert 0.19 <= time.monotonic() - began < 1.0, "20 simulated seconds at speed 100 take 0.2 wall seconds"


def test_stop_ends_the_loop_after_the_current_action() -> None:
    loop, seen = EventLoop(speed=math.inf), list[int]()

    def first() -> None:
        seen.append(1)
        loop.stop()

    loop.at(1, first)
    loop.at(2, lambda: seen.append(2))
    loop.run()
    assert seen == [1] and loop.stopped


def test_route_path_positions_along_the_polyline() -> None:
    path = RoutePath([(114.30, 30.55), (114.30, 30.551), (114.301, 30.551)])
    assert path.length_m == pytest.approx(111 + 96, abs=3)
    assert path.lonlat_at(0) == pytest.approx((114.30, 30.55))
    middle = path.lonlat_at(path.cumulative_m[1] / 2)
    assert middle == pytest.approx((114.30, 30.5505), abs=1e-6)
    assert path.lonlat_at(1e9) == pytest.approx((114.301, 30.551))


def test_case_plans_follow_the_shares() -> None:
    rng = np.random.default_rng(3)
    plans = [CasePlan.draw(rng, Behaviour(), self_disposable=True) for _ in range(4000)]
    sources = {s: sum(p.source == s for p in plans) / len(plans) for s in ("patrol", "api", "open311")}
    assert sources == pytest.approx({"patrol": 0.4, "api": 0.35, "open311": 0.25}, abs=0.03)
    assert all(p.source == "patrol" for p in plans if p.self_dispose)
    assert not any(p.rework or p.extension for p in plans if p.self_dispose)
    assert 0.02 < sum(p.rework for p in plans) / len(plans) < 0.08


def test_bad_options_are_refused_with_the_name() -> None:
    with pytest.raises(InvalidInputError, match="rate must be greater than 0"):
        SimulationOptions(rate_per_min=0).check()
    with pytest.raises(InvalidInputError, match="needs a time zone"):
        from datetime import datetime

        SimulationOptions(start=datetime(2026, 3, 2, 9)).check()


def test_command_line_arguments() -> None:
    args = build_parser().parse_args(["simulate", "--rate", "6", "--minutes", "forever", "--speed", "inf"])
    assert (args.rate, args.minutes, args.speed) == (6.0, math.inf, math.inf)
    assert build_parser().parse_args(["simulate", "--minutes", "60"]).minutes == 60.0
    for bad in (["--minutes", "soon"], ["--speed", "0"], ["--start", "2026-03-02T09:00"]):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["simulate", *bad])


def test_argument_errors_name_the_problem() -> None:
    from gis_api.simulate import arguments

    with pytest.raises(argparse.ArgumentTypeError, match="'forever'"):
        arguments.minutes("-3")


def test_first_ctrl_c_stops_the_loop_cleanly_and_the_handler_is_restored() -> None:
    loop, lines = EventLoop(speed=math.inf), list[str]()
    before = signal.getsignal(signal.SIGINT)
    with stop_on_interrupt(loop, lines.append):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the handler runs between bytecodes of the main thread
    assert loop.stopped
    assert lines == ["[simulate] stopping after the current step (Ctrl-C again to abort)"]
    assert signal.getsignal(signal.SIGINT) is before
