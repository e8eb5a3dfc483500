"""Synthetic buildings for a generated district: compounds on urban land and in towns, terraced
houses in villages, each piece of land holding exactly its share of the households.

A piece is the part of one street inside the urban land or inside one settlement, with roads cut
out. It is cut into 160-240 m parcels (gis_api.demo.compounds) filled in random order until its
households are housed, so the rest stays empty land as in the Wuchang demo. What a parcel holds
depends on the piece: urban land has Wuchang's newer-street mix (25 % walk-up compounds, the rest
towers), towns more walk-ups (55 %, Wuchang's old city), market towns walk-ups only, villages rows
of terraced houses. Where a piece cannot hold its share, the shortfall moves to the street's
next piece, and what a street still cannot hold tops up its buildings.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import affinity
from shapely.geometry.base import BaseGeometry

from gis_api.demo.city.settlement import SettlementPlan, Tier
from gis_api.demo.compounds import (
    LOWRISE,
    TOWER,
    VILLAGE,
    CompoundKind,
    Layout,
    lattice_parcels,
    layout_parcels,
    rotate_back,
    take_until,
)
from gis_api.demo.sources import DemoDataError

# (main kind, share of walk-up compounds) per tier
MIX: dict[Tier, tuple[CompoundKind, float]] = {
    Tier.URBAN: (TOWER, 0.25),
    Tier.TOWN: (TOWER, 0.55),
    Tier.MARKET_TOWN: (LOWRISE, 1.0),
    Tier.VILLAGE: (VILLAGE, 0.0),
}
MAX_TOP_UP = 0.25
"""A street whose land falls short may add up to this share to its buildings' households."""


@dataclass(frozen=True)
class Piece:
    """Land of one street in the urban land or in one settlement, and the households it holds."""

    street_code: str
    land: BaseGeometry
    households: int
    tier: Tier


def street_pieces(streets: gpd.GeoDataFrame, plan: SettlementPlan, road_space: BaseGeometry) -> list[Piece]:
    """Every street's pieces; a settlement or the urban land crossing streets is shared by area."""
    pieces: list[Piece] = []
    shapely.prepare(road_space)
    sources = _household_sources(plan)
    for shape, households, tier in sources:
        parts = shapely.intersection(streets.geometry.to_numpy(), shape)
        areas = shapely.area(parts)
        if households <= 0 or areas.sum() <= 0:
            continue
        shares = largest_share(areas, households)
        for code, part, share in zip(streets["code"], parts, shares, strict=True):
            if share > 0:
                pieces.append(Piece(str(code), shapely.difference(part, road_space), int(share), tier))
    return pieces


def _household_sources(plan: SettlementPlan) -> list[tuple[BaseGeometry, int, Tier]]:
    sources = [(plan.urban_land, plan.urban_households, Tier.URBAN)]
    discs = plan.settlements.discs()
    for disc, households, tier in zip(
        discs, plan.settlements.households, plan.settlements.tiers(), strict=True
    ):
        sources.append((disc, int(households), tier))
    return sources


def largest_share(areas: np.ndarray, total: int) -> np.ndarray:
    """Integers in proportion to areas summing to total."""
    exact = areas / areas.sum() * total
    counts = np.floor(exact).astype(np.int64)
    counts[np.argsort(-(exact - counts), kind="stable")[: total - int(counts.sum())]] += 1
    return counts


def piece_layout(
    land: BaseGeometry, kind: CompoundKind, lowrise_share: float, rng: np.random.Generator
) -> tuple[Layout, float, tuple[float, float]]:
    """Every compound the land could hold, parcels in random order; with the frame's angle and origin."""
    angle = float(rng.uniform(-15.0, 15.0))
    centre = land.centroid if not land.is_empty else shapely.Point(0.0, 0.0)
    origin = (centre.x, centre.y)
    parcels = lattice_parcels(affinity.rotate(land, -angle, origin=origin), rng)
    parcels = parcels[rng.permutation(len(parcels))]
    kinds = [LOWRISE if rng.random() < lowrise_share else kind for _ in parcels]
    return layout_parcels(parcels, kinds, rng), angle, origin


def fill_piece(
    land: BaseGeometry, households: int, mix: tuple[CompoundKind, float], rng: np.random.Generator
) -> tuple[gpd.GeoDataFrame, int]:
    """Buildings holding `households` (or all the land holds) and the households left unhoused."""
    layout, angle, origin = piece_layout(land, mix[0], mix[1], rng)
    capacity = int(layout.households.sum())
    if households <= 0:
        chosen = np.empty(0, dtype=np.int64)
    elif capacity < households:
        chosen = np.arange(len(layout.households))
    else:
        chosen = take_until(layout, households, rng)
    housed = int(layout.households[chosen].sum())
    corners = rotate_back(layout.corners[chosen], angle, origin)
    rings = np.concatenate([corners, corners[:, :1]], axis=1)
    frame = gpd.GeoDataFrame(
        {
            "source": "synthetic",
            "kind": layout.kinds[chosen],
            "levels": layout.levels[chosen],
            "households": layout.households[chosen],
        },
        geometry=shapely.polygons(rings) if len(chosen) else [],
    )
    return frame, households - housed


def fill_street(pieces: list[Piece], rng: np.random.Generator) -> list[gpd.GeoDataFrame]:
    """Buildings of one street's pieces, largest piece first; a shortfall carries to the next piece
    and what is still unhoused at the end tops up the street's buildings (bigger houses)."""
    frames, short = [], 0
    for piece in sorted(pieces, key=lambda p: -p.households):
        frame, short = fill_piece(piece.land, piece.households + short, MIX[piece.tier], rng)
        frames.append(frame)
    if short > 0:
        top_up(frames, short, pieces[0].street_code, rng)
    return frames


def top_up(frames: list[gpd.GeoDataFrame], short: int, street: str, rng: np.random.Generator) -> None:
    """Add `short` households to random buildings of the street, at most MAX_TOP_UP more each."""
    sizes = np.concatenate([frame["households"].to_numpy() for frame in frames])
    if sizes.size == 0 or short > MAX_TOP_UP * sizes.sum():
        raise DemoDataError(f"street {street}: its settled land cannot hold {short} more households")
    extra = np.bincount(rng.choice(sizes.size, size=short, p=sizes / sizes.sum()), minlength=sizes.size)
    start = 0
    for frame in frames:
        frame["households"] = frame["households"].to_numpy() + extra[start : start + len(frame)]
        start += len(frame)


def fill_streets(pieces: list[Piece], crs: object, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Buildings of every street (street_code column), streets in code order."""
    by_street: dict[str, list[Piece]] = {}
    for piece in pieces:
        by_street.setdefault(piece.street_code, []).append(piece)
    frames = []
    for code in sorted(by_street):
        for frame in fill_street(by_street[code], rng):
            frames.append(frame.assign(street_code=code))
    buildings = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return gpd.GeoDataFrame(buildings, geometry="geometry", crs=crs)
