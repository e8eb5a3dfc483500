"""网格 (Wangge): grid management and dispatch GIS — service and data layer."""

__version__ = "0.1.0"
