"""The workload weights file: the shipped one reads, every bad value is one line naming its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from gis_api.config import get_settings
from gis_api.errors import LoadError
from gis_api.workload.weights import load_weights

SHIPPED = get_settings().workload_weights_file


def edited(tmp_path: Path, old: str, new: str) -> Path:
    text = SHIPPED.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "weights.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_shipped_weights_and_the_most_specific_code_wins() -> None:
    weights = load_weights(SHIPPED)
    assert weights.case_hours("E0201") == 0.75  # kind
    assert weights.case_hours("E0402") == 2.0  # major E04
    assert weights.case_hours("E0101") == 3.0  # minor
    assert weights.case_hours("C0501") == 2.0
    assert weights.case_hours_array(["C0101", "E0101", "C0101"]).tolist() == [1.0, 3.0, 1.0]
    assert weights.busy_over_mean == 1.15


def test_a_file_without_the_replay_section_still_reads(tmp_path: Path) -> None:
    """Files written before [replay] existed keep working, with the default busy line."""
    path = tmp_path / "old.toml"
    text = SHIPPED.read_text(encoding="utf-8")
    path.write_text(text[: text.index("[replay]")], encoding="utf-8")
    assert load_weights(path).busy_over_mean == 1.15
    assert (
        load_weights(edited(tmp_path, "busy_over_mean = 1.15", "busy_over_mean = 1.3")).busy_over_mean == 1.3
    )


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("tours_per_week = 2.0", "tours_per_week = -1", r"patrol\.tours_per_week must be >= 0, got -1"),
        ("walk_speed_mps = 1.2", "walk_speed_mps = 0", r"patrol\.walk_speed_mps must be > 0"),
        ("event = 0.75", 'event = "a lot"', r"cases\.event must be a finite number"),
        ("E04 = 2.0", "E99 = 2.0", r"cases\.codes\.E99: no such major"),
        ("hours_per_year = 1.0", "hours_per_yr = 1.0", r"households: unknown key 'hours_per_yr'"),
        ("circuity = 1.3", "circuity = nan", r"patrol\.circuity must be a finite number"),
        ("[cases]", "[cases", r"weights\.toml: "),
        ("busy_over_mean = 1.15", "busy_over_mean = 0", r"replay\.busy_over_mean must be > 0"),
        ("busy_over_mean = 1.15", "busy_line = 1.15", r"replay: unknown key 'busy_line'"),
    ],
)
def test_bad_weights_are_one_line(tmp_path: Path, old: str, new: str, message: str) -> None:
    with pytest.raises(LoadError, match=message) as raised:
        load_weights(edited(tmp_path, old, new))
    assert "\n" not in str(raised.value)
