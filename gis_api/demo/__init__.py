"""Wuchang (武昌区) demo dataset: a deterministic generator built on real OSM and NBS inputs.

`generate_demo(data_dir, seed)` returns a `DemoDataset`; the heavy geo imports happen on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gis_api.demo.generate import DemoDataset, generate_demo

__all__ = ["DemoDataset", "generate_demo"]


def __getattr__(name: str) -> Any:
    """Import the generator lazily so that `import gis_api.demo.<module>` stays cheap."""
    if name in __all__:
        from gis_api.demo import generate

        return getattr(generate, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
