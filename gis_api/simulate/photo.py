"""The photo simulated workers attach where a category needs one on dispose (photo_on_dispose).

A small PNG drawn here and labelled synthetic, stored like any upload, so the command centre's
timeline shows a real picture for simulated disposals too.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from gis_api.cases import media


@lru_cache
def synthetic_photo() -> bytes:
    """A 160×120 PNG that says what it is (matplotlib's Agg backend, no display needed)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(1.6, 1.2), dpi=100)
    figure.patch.set_facecolor("#c9d6df")
    figure.text(0.5, 0.55, "synthetic photo", ha="center", va="center", fontsize=10)
    figure.text(0.5, 0.3, "simulation", ha="center", va="center", fontsize=8, color="#555555")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def stored_photo_ref(var_dir: Path) -> str:
    """Store the synthetic photo under var_dir/media (once) and return its media ref."""
    return media.store(var_dir, synthetic_photo()).ref
