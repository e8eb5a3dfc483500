"""Generate the city's districts (all but Wuchang, which is the Wuchang demo) in parallel processes.

Every district is calibrated to Wuchang, the one district with official street data: its census
households over its urban land (gis_api.demo.city.settlement) and its households per official
street (442,409 over 14 streets, about 31,600).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import geopandas as gpd

from gis_api.demo.city.district import (
    Calibration,
    CityDistrict,
    district_roads,
    generate_district,
    metric_outline,
)
from gis_api.demo.city.settlement import urban_density, urban_land
from gis_api.demo.city.sources import CitySources, DistrictSpec
from gis_api.demo.sources import DISTRICT_CODE, read_census, read_codes

Progress = Callable[[str], None]


def calibrate(sources: CitySources, wuchang_folder: Path) -> Calibration:
    """Urban households per m² and households per street, both from Wuchang's real figures."""
    spec = sources.district(DISTRICT_CODE)
    census = read_census(wuchang_folder / "public_figures.csv")
    outline, crs = metric_outline(spec)
    _, lines = district_roads(outline, sources.roads, crs)
    streets, _ = read_codes(wuchang_folder)
    return Calibration(
        urban_households_per_m2=urban_density(census.households, urban_land(outline, lines)),
        households_per_street=census.households / len(streets),
    )


def _generate(job: tuple[DistrictSpec, gpd.GeoDataFrame, Calibration, int]) -> CityDistrict:
    spec, roads, calibration, seed = job
    return generate_district(spec, roads, calibration, seed, progress=lambda m: print(m, flush=True))


def generate_districts(
    sources: CitySources, specs: list[DistrictSpec], calibration: Calibration, seed: int, workers: int
) -> Iterator[CityDistrict]:
    """Generated districts in the order of `specs`, `workers` at a time (1: in this process)."""
    jobs = [(spec, sources.roads, calibration, seed) for spec in specs]
    if workers <= 1 or len(jobs) <= 1:
        yield from map(_generate, jobs)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(_generate, jobs)
