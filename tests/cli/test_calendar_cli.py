"""`wangge calendar check` and `wangge calendar import`, run as the real command."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cases.test_holidays import DEFAULT_FILE, shipped_year


def wangge(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "gis_api.cli", *args], capture_output=True, text=True, env=full, timeout=120
    )


@pytest.mark.parametrize(
    ("today", "status", "says"),
    [
        ("2026-06-01", 0, "ok: the working calendar covers 2025-2026 until 2026-12-31 (213 days from now)"),
        ("2026-11-01", 1, "WARNING: the working calendar covers 2025-2026 until 2026-12-31, 60 days"),
    ],
)
def test_check_exits_non_zero_within_sixty_days(tmp_path: Path, today: str, status: int, says: str) -> None:
    result = wangge("calendar", "check", "--today", today, env={"WANGGE_VAR_DIR": str(tmp_path)})
    assert result.returncode == status, result.stderr
    assert says in result.stdout
    assert "https://www.gov.cn/zhengce/content/202511/content_7047090.htm" in result.stdout


def test_import_adds_the_year_and_check_passes(tmp_path: Path, database_url: str) -> None:
    calendar = tmp_path / "calendar.toml"
    calendar.write_text(DEFAULT_FILE.read_text().split("[years.2026]")[0])
    env = {
        "WANGGE_CALENDAR_FILE": str(calendar),
        "WANGGE_VAR_DIR": str(tmp_path / "var"),
        "WANGGE_DATABASE_URL": database_url,
    }
    schedule = tmp_path / "2026.toml"
    schedule.write_text(shipped_year(2026))
    imported = wangge("calendar", "import", str(schedule), env=env)
    assert imported.returncode == 0, imported.stderr
    assert "added 2026: 元旦、春节、清明节、劳动节、端午节、中秋节、国庆节" in imported.stdout
    assert "33 days off, 6 make-up working days" in imported.stdout
    assert "recounted the deadlines of 0 open cases" in imported.stdout
    assert (tmp_path / "var" / "holidays" / "2026.toml").exists()
    check = wangge("calendar", "check", "--today", "2025-12-01", env=env)
    assert check.returncode == 0 and "covers 2025-2026" in check.stdout


def test_a_bad_file_is_one_line(tmp_path: Path) -> None:
    schedule = tmp_path / "2027.toml"
    schedule.write_bytes(b"year = 2027\x00\nsource = ")
    result = wangge("calendar", "import", str(schedule), env={"WANGGE_VAR_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: holiday schedule {schedule}")
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    bad_day = wangge("calendar", "check", "--today", "2026-02-30")
    assert bad_day.returncode == 1 and "is not a date" in bad_day.stderr
