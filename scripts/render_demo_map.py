"""Draw the generated Wuchang demo to a PNG: streets, water, household density, old plan.

Usage: .venv/bin/python scripts/render_demo_map.py [--out demo_map.png] [--seed 420106] [--data data]
Needs matplotlib (the project's dev extra). Street names are drawn in Chinese when a CJK font
(e.g. Debian's fonts-wqy-microhei or fonts-noto-cjk) is installed, else as street codes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm

from gis_api.demo.generate import DemoDataset, generate_demo
from gis_api.demo.sources import METRIC_CRS

CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC")
DENSITY_CELL_M = 100.0


def cjk_font() -> str | None:
    """Name of an installed font that can draw Chinese, if any."""
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def draw_density(ax: Axes, dataset: DemoDataset) -> None:
    """Households per 100 m cell, log colour scale."""
    households = dataset.households
    points = np.column_stack([households.lon, households.lat])
    from pyproj import Transformer

    x, y = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True).transform(points[:, 0], points[:, 1])
    minx, miny, maxx, maxy = dataset.district.to_crs(METRIC_CRS).total_bounds
    bins = [
        np.arange(minx, maxx + DENSITY_CELL_M, DENSITY_CELL_M),
        np.arange(miny, maxy + DENSITY_CELL_M, DENSITY_CELL_M),
    ]
    counts, xedges, yedges = np.histogram2d(x, y, bins=bins)
    counts[counts == 0] = np.nan
    mesh = ax.pcolormesh(
        xedges, yedges, counts.T, cmap="inferno_r", norm=LogNorm(vmin=1, vmax=np.nanmax(counts)), zorder=2
    )
    plt.colorbar(mesh, ax=ax, shrink=0.5, label=f"households per {DENSITY_CELL_M:.0f} m cell")


def draw_map(dataset: DemoDataset, out: Path) -> None:
    """Write the map: street fill, water, density, community lines, street borders and labels."""
    font = cjk_font()
    if font:
        plt.rcParams["font.family"] = font
    fig, ax = plt.subplots(figsize=(16, 15))
    streets = dataset.streets.to_crs(METRIC_CRS)
    streets.plot(ax=ax, column="code", cmap="Pastel1", alpha=0.6, zorder=1)
    dataset.water.to_crs(METRIC_CRS).plot(ax=ax, color="#7fb7e6", zorder=3)
    draw_density(ax, dataset)
    dataset.communities.to_crs(METRIC_CRS).boundary.plot(ax=ax, color="#555", linewidth=0.4, zorder=4)
    streets.boundary.plot(ax=ax, color="black", linewidth=1.6, zorder=5)
    for street in streets.itertuples():
        anchor = street.geometry.representative_point()
        label = street.name.removesuffix("街道") if font else street.code[-3:]
        ax.annotate(
            label,
            (anchor.x, anchor.y),
            ha="center",
            fontsize=13,
            weight="bold",
            zorder=6,
            bbox={"boxstyle": "round", "fc": "white", "alpha": 0.7},
        )
    households = len(dataset.households)
    ax.set_title(
        f"武昌区 demo: {households:,} households, {len(dataset.communities)} old communities, "
        f"{len(dataset.grids)} grids (EPSG:32650)"
    )
    ax.set_axis_off()
    fig.savefig(out, dpi=90, bbox_inches="tight")
    plt.close(fig)


def draw_zoom(dataset: DemoDataset, bbox: tuple[float, float, float, float], out: Path) -> None:
    """Close-up of a lon/lat box: footprints (OSM vs synthetic), household points, grid lines, water."""
    west, south, east, north = bbox
    fig, ax = plt.subplots(figsize=(14, 14))
    dataset.water.cx[west:east, south:north].plot(ax=ax, color="#7fb7e6")
    buildings = dataset.buildings.cx[west:east, south:north]
    colours = {"osm": "#777777", "synthetic": "#e8913a"}
    for source, part in buildings.groupby("source"):
        part.plot(ax=ax, color=colours[str(source)], label=str(source))
    homes = dataset.households
    inside = homes.lon.between(west, east) & homes.lat.between(south, north)
    ax.scatter(homes.lon[inside], homes.lat[inside], s=0.2, color="#1b3a8c", alpha=0.5)
    dataset.grids.cx[west:east, south:north].boundary.plot(ax=ax, color="#c2185b", linewidth=0.6)
    dataset.streets.boundary.plot(ax=ax, color="black", linewidth=1.5)
    ax.set_xlim(west, east)
    ax.set_ylim(south, north)
    ax.set_title("buildings (grey OSM, orange synthetic), household points (blue), old grids (magenta)")
    fig.savefig(out, dpi=80, bbox_inches="tight")
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Generate the demo and render it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("demo_map.png"))
    parser.add_argument("--seed", type=int, default=420106)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1] / "data")
    parser.add_argument(
        "--zoom", help="also draw a close-up of WEST,SOUTH,EAST,NORTH (lon/lat) to OUT-zoom.png"
    )
    args = parser.parse_args(argv)
    dataset = generate_demo(args.data, seed=args.seed, progress=print)
    draw_map(dataset, args.out)
    print(f"wrote {args.out}")
    if args.zoom:
        west, south, east, north = (float(value) for value in args.zoom.split(","))
        zoom_out = args.out.with_name(f"{args.out.stem}-zoom.png")
        draw_zoom(dataset, (west, south, east, north), zoom_out)
        print(f"wrote {zoom_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
