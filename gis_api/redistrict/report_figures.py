"""Pictures of the plan report: SVG histograms and the map's deviation legend.

Histograms are plain SVG whose texts the browser sets (no font needed on the server, both languages
switchable with the page); the legend is a Leaflet control added to the folium map.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from branca.element import MacroElement
from jinja2 import Template

from gis_api.redistrict.report_text import bi

# diverging ramp shared by map, legend and bars: (upper bound of deviation, colour, label)
DEVIATION_CLASSES = (
    (-0.10, "#2c7bb6", "< −10 %"),
    (-0.05, "#abd9e9", "−10 … −5 %"),
    (0.05, "#ffffbf", "−5 … +5 %"),
    (0.10, "#fdae61", "+5 … +10 %"),
    (float("inf"), "#d7191c", "> +10 %"),
)
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 560, 260, 48, 12, 30, 44
BINS = 40
DASHED = ' stroke-dasharray="4 3"'


def deviation_colour(deviation: float) -> str:
    """The ramp colour of a signed deviation (0.07 = 7 % over target)."""
    return next(colour for upper, colour, _ in DEVIATION_CLASSES if deviation < upper)


def svg_text(x: float, y: float, zh: str, en: str, extra: str = "") -> str:
    """The same label twice, one per language (the page's switch shows one)."""
    where = f'x="{x:.1f}" y="{y:.1f}" text-anchor="middle" {extra}'
    return "".join(
        f'<text class="{lang}" {where}>{html.escape(words)}</text>'
        for lang, words in (("zh", zh), ("en", en))
    )


@dataclass(frozen=True)
class Frame:
    """The value range on the x axis and the tallest bar, mapped onto the plot area."""

    low: float
    high: float
    top: int

    @property
    def base(self) -> float:
        return HEIGHT - BOTTOM

    def x(self, value: float) -> float:
        return LEFT + (value - self.low) / (self.high - self.low) * (WIDTH - LEFT - RIGHT)

    def height(self, count: int) -> float:
        return count / self.top * (HEIGHT - TOP - BOTTOM)


def histogram_svg(values: np.ndarray, target: float, title: tuple[str, str], axis: tuple[str, str]) -> str:
    """Households per area: bars coloured by deviation, the target (solid) and ±10 % (dashed)."""
    low = min(float(values.min(initial=target)), target * 0.85)
    high = max(float(values.max(initial=target)), target * 1.15)
    counts, edges = np.histogram(values, bins=BINS, range=(low, high))
    frame = Frame(low, high, max(int(counts.max(initial=0)), 1))
    parts = [svg_text(WIDTH / 2, 18, *title, extra='font-weight="bold" font-size="14"')]
    for count, start, end in zip(counts, edges[:-1], edges[1:], strict=True):
        colour = deviation_colour(((start + end) / 2 - target) / target)
        parts.append(_bar(frame, float(start), float(end), int(count), colour))
    for value, dash in ((target, ""), (target * 0.9, DASHED), (target * 1.1, DASHED)):
        x = frame.x(value)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{frame.base}" stroke="#c44e52"{dash}/>')
    parts += _axes(frame, axis)
    size = f'width="{WIDTH}" height="{HEIGHT}" font-size="11"'
    return f'<svg xmlns="http://www.w3.org/2000/svg" {size}>{"".join(parts)}</svg>'


def _bar(frame: Frame, start: float, end: float, count: int, colour: str) -> str:
    x, height = frame.x(start), frame.height(count)
    width = max(frame.x(end) - x - 1, 0.5)
    return (
        f'<rect x="{x:.1f}" y="{frame.base - height:.1f}" width="{width:.1f}" height="{height:.1f}" '
        f'fill="{colour}" stroke="#555" stroke-width="0.4"/>'
    )


def _axes(frame: Frame, axis: tuple[str, str]) -> list[str]:
    """Axis lines, ticks and the two axis titles."""
    base, middle = frame.base, (TOP + frame.base) / 2
    parts = [
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base}" y2="{base}" stroke="#333"/>',
        f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{base}" stroke="#333"/>',
    ]
    for tick in np.linspace(frame.low, frame.high, 6):
        parts.append(f'<text x="{frame.x(tick):.1f}" y="{base + 14}" text-anchor="middle">{tick:,.0f}</text>')
    for tick in (0, frame.top):
        y = base - frame.height(tick) + 4
        parts.append(f'<text x="{LEFT - 4}" y="{y:.1f}" text-anchor="end">{tick}</text>')
    parts.append(svg_text((LEFT + WIDTH - RIGHT) / 2, HEIGHT - 8, *axis))
    parts.append(svg_text(14, middle, "个数", "count", extra=f'transform="rotate(-90 14 {middle})"'))
    return parts


class DeviationLegend(MacroElement):
    """A Leaflet control in the map's corner explaining the deviation colours (and further layers' marks)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var legend = L.control({position: 'bottomright'});
            legend.onAdd = function () {
                var div = L.DomUtil.create('div', 'wg-legend');
                div.innerHTML = {{ this.content|tojson }};
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
    """)

    def __init__(self, extra_rows: Sequence[str] = ()) -> None:
        """`extra_rows`: legend entries (HTML) of further map layers, below the colours."""
        super().__init__()
        self._name = "DeviationLegend"
        rows = [
            f'<div><i style="background:{colour}"></i>{label}</div>' for _, colour, label in DEVIATION_CLASSES
        ]
        self.content = f"<b>{bi('网格户数偏差', 'Grid deviation from target')}</b>{''.join(rows)}" + "".join(
            extra_rows
        )


class MetricScale(MacroElement):
    """Leaflet's scale bar in metres and kilometres only."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false, maxWidth: 160}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self) -> None:
        super().__init__()
        self._name = "MetricScale"
