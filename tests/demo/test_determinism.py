"""Same seed, same dataset; another seed, another dataset. Progress is reported on the way."""

from __future__ import annotations

import hashlib

import geopandas as gpd
import pandas as pd

from gis_api.demo.generate import DemoDataset, generate_demo
from tests.demo.conftest import DATA_DIR, DEFAULT_SEED

LAYERS = ("district", "streets", "water", "buildings", "households", "communities", "grids")


def frame_digest(frame: pd.DataFrame) -> str:
    """sha256 over the attribute values and, for geo layers, the geometry WKB."""
    digest = hashlib.sha256()
    attributes = frame.drop(columns="geometry") if isinstance(frame, gpd.GeoDataFrame) else frame
    digest.update(pd.util.hash_pandas_object(attributes, index=True).to_numpy().tobytes())
    if isinstance(frame, gpd.GeoDataFrame):
        for wkb in frame.geometry.to_wkb():
            digest.update(wkb)
    return digest.hexdigest()


def dataset_digest(dataset: DemoDataset) -> dict[str, str]:
    return {layer: frame_digest(getattr(dataset, layer)) for layer in LAYERS}


def test_same_seed_gives_identical_output(demo: DemoDataset) -> None:
    again = generate_demo(DATA_DIR, seed=DEFAULT_SEED)
    assert dataset_digest(again) == dataset_digest(demo)


def test_another_seed_changes_the_synthetic_parts_only(demo: DemoDataset) -> None:
    other = generate_demo(DATA_DIR, seed=7)
    before, after = dataset_digest(demo), dataset_digest(other)
    assert before["district"] == after["district"]
    assert before["streets"] == after["streets"]
    assert before["water"] == after["water"]
    assert before["households"] != after["households"]
    assert before["grids"] != after["grids"]
    assert len(other.households) == len(demo.households)
    assert len(other.communities) == 180


def test_generation_reports_progress(progress_lines: list[str], demo: DemoDataset) -> None:
    household_lines = [line for line in progress_lines if line.startswith("[demo] households ")]
    assert len(household_lines) >= 4
    assert household_lines[-1] == f"[demo] households {len(demo.households)}/{len(demo.households)}"
    assert any("old plan: 180 communities" in line for line in progress_lines)
