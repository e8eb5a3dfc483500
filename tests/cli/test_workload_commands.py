"""`wangge simulate --year`, `wangge workload`, `wangge plan replay` and `--balance` as a user types
them: results on the tiny district, and one line with exit 1 for what cannot work."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_commands import committed_url, wangge

__all__ = ["committed_url"]


def test_year_workload_and_replay_from_the_command_line(committed_url: str, tmp_path: Path) -> None:
    year = wangge(
        "simulate", "--year", "--from", "2025-01-01", "--cases", "40", "--seed", "3", url=committed_url
    )
    assert year.returncode == 0, year.stderr
    assert "synthetic cases in district 420106, 2025-01-01 .. 2025-12-31" in year.stdout
    again = wangge("simulate", "--year", "--from", "2025-01-01", "--cases", "40", url=committed_url)
    assert again.returncode == 1 and again.stderr.count("\n") == 1 and "--replace" in again.stderr
    period = ("--since", "2025-01-01", "--until", "2026-01-01")
    table = wangge("workload", *period, url=committed_url)
    assert table.returncode == 0, table.stderr
    assert "4 grids," in table.stdout and "(0 in no grid)" in table.stdout
    out = tmp_path / "replay.csv"
    replay = wangge("plan", "replay", "1", *period, "--output", str(out), url=committed_url)
    assert replay.returncode == 0, replay.stderr
    assert "on_time_share" in replay.stdout and out.read_text().startswith("plan,plan_id,level,code")
    wrong = wangge("plan", "replay", "1", *period, "--output", str(tmp_path / "r.txt"), url=committed_url)
    assert wrong.returncode == 1 and "write FILE.json or FILE.csv" in wrong.stderr


def test_bad_workload_options_are_one_line(committed_url: str) -> None:
    live_only = wangge("simulate", "--cases", "5", url=committed_url)
    assert (
        live_only.returncode == 1
        and live_only.stderr == "error: --cases, --from and --replace go with --year\n"
    )
    naive = wangge("workload", "--since", "2025-01-01T00:00:00", url=committed_url)
    assert naive.returncode == 2 and "has no time zone" in naive.stderr
    tolerance = wangge("redistrict", "--balance", "both", "--household-tolerance", "2", url=committed_url)
    assert tolerance.returncode == 2 and "must lie in (0, 1]" in tolerance.stderr
    city = wangge("redistrict", "--city", "4201", "--balance", "both", url=committed_url)
    assert city.returncode == 1 and city.stderr.count("\n") == 1
    assert "--balance both redraws one district at a time" in city.stderr
