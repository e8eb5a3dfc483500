"""The generated demo, built once per test session (about 6 s) and shared read-only."""

from __future__ import annotations

from pathlib import Path

import pytest

from gis_api.demo.generate import DemoDataset, generate_demo

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
DEFAULT_SEED = 420106


@pytest.fixture(scope="session")
def progress_lines() -> list[str]:
    """Progress messages the session's generation printed."""
    return []


@pytest.fixture(scope="session")
def demo(progress_lines: list[str]) -> DemoDataset:
    """The default-seed demo dataset."""
    return generate_demo(DATA_DIR, seed=DEFAULT_SEED, progress=progress_lines.append)
