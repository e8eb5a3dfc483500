"""deploy/wangge-backup.sh (what the systemd timer runs): a new backup, then retention by age."""

import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from gis_api.config import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "deploy" / "wangge-backup.sh"
DAY = 86400


def aged(folder: Path, name: str, days: int) -> Path:
    path = folder / name
    path.write_bytes(b"old backup")
    when = time.time() - days * DAY
    os.utime(path, (when, when))
    return path


def test_backup_script_makes_one_and_keeps_the_right_old_ones(database_url: str, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    recent = aged(backups, "wangge-20261202-023000.tar", 3)
    stale = aged(backups, "wangge-20261115-023000.tar", 20)
    monthly = aged(backups, "wangge-20260901-023000.tar", 95)
    ancient = aged(backups, "wangge-20251101-023000.tar", 400)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {
        "BACKUP_DIR": str(backups),
        "KEEP_DAYS": "14",
        "KEEP_MONTHS": "12",
        "WANGGE": str(Path(sys.executable).parent / "wangge"),
        "WANGGE_DATABASE_URL": database_url,
        "WANGGE_VAR_DIR": str(tmp_path / "var"),
    }
    result = subprocess.run(["sh", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    left = sorted(p.name for p in backups.iterdir())
    assert recent.name in left and monthly.name in left
    assert stale.name not in left and ancient.name not in left
    (new,) = set(left) - {recent.name, monthly.name}
    with tarfile.open(backups / new) as archive:
        assert {"manifest.json", "database.dump"} <= set(archive.getnames())
    assert oct(backups.stat().st_mode & 0o777) == "0o700"
