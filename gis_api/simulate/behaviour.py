"""How the simulated district behaves: report sources, delays, speeds and the share of special cases.

Delays are in simulated seconds and drawn uniformly between the two bounds; shares are probabilities
per case. The defaults give a working afternoon in a central district: most cases closed within the
hour, a few extended, sent back for rework or put under supervision.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Bounds = tuple[float, float]

SOURCES = ("patrol", "api", "open311")


@dataclass(frozen=True)
class Behaviour:
    """Parameters of the simulated people; change them to stress particular parts of the loop."""

    source_shares: tuple[float, float, float] = (0.4, 0.35, 0.25)
    """Shares of patrol, api (operators, hotline) and open311 (residents' apps) reports."""
    self_dispose_share: float = 0.5
    """Of patrol reports of a self-disposable category, the share fixed on the spot (自行处置)."""
    extension_share: float = 0.05
    rework_share: float = 0.06
    supervise_share: float = 0.04
    household_spread_m: float = 15.0
    """Standard deviation of an incident's distance from the household it is drawn near."""
    cycling_kmh: Bounds = (12.0, 18.0)
    accept_delay_s: Bounds = (20.0, 120.0)
    register_delay_s: Bounds = (20.0, 90.0)
    dispatch_delay_s: Bounds = (10.0, 60.0)
    dispatch_retry_s: float = 120.0
    dispatch_attempts: int = 10
    handling_s: Bounds = (180.0, 600.0)
    extension_request_after_s: Bounds = (60.0, 120.0)
    extension_decision_s: Bounds = (60.0, 180.0)
    extension_hours: float = 4.0
    extended_handling_s: Bounds = (600.0, 1200.0)
    rework_handling_s: Bounds = (120.0, 300.0)
    self_dispose_delay_s: Bounds = (60.0, 240.0)
    verify_delay_s: Bounds = (60.0, 300.0)
    close_delay_s: Bounds = (30.0, 120.0)
    supervise_after_s: Bounds = (120.0, 900.0)


def draw(rng: np.random.Generator, bounds: Bounds) -> float:
    """One uniform draw between the bounds (rounded to the millisecond so logs read well)."""
    return round(float(rng.uniform(bounds[0], bounds[1])), 3)


@dataclass(frozen=True)
class CasePlan:
    """What will happen to one case, decided when it is reported (so a seed fixes the whole story)."""

    source: str
    self_dispose: bool
    extension: bool
    rework: bool
    supervise: bool

    @classmethod
    def draw(cls, rng: np.random.Generator, behaviour: Behaviour, self_disposable: bool) -> CasePlan:
        source = SOURCES[int(rng.choice(len(SOURCES), p=np.asarray(behaviour.source_shares)))]
        chances = rng.random(4)
        on_the_spot = source == "patrol" and self_disposable and chances[0] < behaviour.self_dispose_share
        return cls(
            source=source,
            self_dispose=bool(on_the_spot),
            extension=bool(not on_the_spot and chances[1] < behaviour.extension_share),
            rework=bool(not on_the_spot and chances[2] < behaviour.rework_share),
            supervise=bool(chances[3] < behaviour.supervise_share),
        )
