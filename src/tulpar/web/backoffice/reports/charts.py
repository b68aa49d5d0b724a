"""Bar charts as SVG markup drawn on the server, styled by attributes only (the staff CSP
forbids inline style and script)."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 600
HEIGHT = 160


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    peak: int


def bar_chart(points: list[tuple[str, int]]) -> Chart:
    """One bar per point, scaled to the tallest; the template draws the <rect>s."""
    peak = max((value for _, value in points), default=0)
    slot = WIDTH / max(len(points), 1)
    bars = []
    for index, (label, value) in enumerate(points):
        height = (HEIGHT - 10) * value / peak if peak else 0.0
        bars.append(
            Bar(
                label,
                value,
                round(index * slot + 1, 2),
                round(HEIGHT - height, 2),
                round(max(slot - 2, 1), 2),
                round(height, 2),
            )
        )
    return Chart(WIDTH, HEIGHT, bars, peak)
