"""The cold-chain temperature chart: inline SVG drawn on the server, no script needed.

A pure function of the readings, so it is tested without a browser. Each point carries its
record and JSON pointer (``data-rec``/``data-path``/``data-value``) so the page's script can
check the plotted value against the verified entry, like any other shown fact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

from foodtrace.resolver.display import Fact, show_time

WIDTH = 360
HEIGHT = 200
PAD_LEFT = 36
PAD_RIGHT = 12
PAD_TOP = 14
PAD_BOTTOM = 34


@dataclass(frozen=True)
class Reading:
    time: datetime
    celsius: Fact  # text is the value as shown; rec/path locate it in the entry

    @property
    def value(self) -> float:
        return float(self.celsius.text)


def excursions(readings: list[Reading], low: float, high: float) -> list[Reading]:
    """Readings outside the allowed range [low, high] °C (断链)."""
    return [r for r in readings if not low <= r.value <= high]


def temperature_svg(readings: list[Reading], low: float, high: float) -> str:
    """The chart as an ``<svg>`` element (escaped, safe to embed)."""
    if not readings:
        return ""
    points = sorted(readings, key=lambda r: r.time)
    values = [r.value for r in points]
    vmin = min([*values, low]) - 1.0
    vmax = max([*values, high]) + 1.0
    t0 = points[0].time.timestamp()
    t1 = points[-1].time.timestamp()
    span = (t1 - t0) or 1.0
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def x(r: Reading) -> float:
        if t1 == t0:
            return PAD_LEFT + plot_w / 2
        return PAD_LEFT + (r.time.timestamp() - t0) / span * plot_w

    def y(v: float) -> float:
        return PAD_TOP + (vmax - v) / (vmax - vmin) * plot_h

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="冷链温度曲线,允许范围 {low:g}–{high:g} °C">',
        # the allowed band
        f'<rect x="{PAD_LEFT}" y="{y(high):.1f}" width="{plot_w}" '
        f'height="{y(low) - y(high):.1f}" class="band"/>',
        f'<text x="{PAD_LEFT - 4}" y="{y(high) + 4:.1f}" class="axis" text-anchor="end">'
        f"{high:g}°</text>",
        f'<text x="{PAD_LEFT - 4}" y="{y(low) + 4:.1f}" class="axis" text-anchor="end">'
        f"{low:g}°</text>",
    ]
    path = " ".join(
        f"{'M' if i == 0 else 'L'}{x(r):.1f},{y(r.value):.1f}" for i, r in enumerate(points)
    )
    parts.append(f'<path d="{path}" class="line"/>')
    for r in points:
        bad = not low <= r.value <= high
        f = r.celsius
        parts.append(
            f'<circle cx="{x(r):.1f}" cy="{y(r.value):.1f}" r="{5 if bad else 3.5}" '
            f'class="{"pt bad" if bad else "pt"} fact" data-rec="{f.rec}" '
            f'data-path="{escape(f.path)}" data-fmt="{f.fmt}" data-value="{escape(f.text)}">'
            f"<title>{escape(show_time(r.time))} {escape(f.text)} °C</title></circle>"
        )
        anchor = "end" if x(r) > WIDTH - 60 else "start"
        parts.append(
            f'<text x="{x(r) + (-6 if anchor == "end" else 6):.1f}" y="{y(r.value) - 6:.1f}" '
            f'class="{"val bad" if bad else "val"}" text-anchor="{anchor}">'
            f"{escape(f.text)}°</text>"
        )
    first, last = show_time(points[0].time), show_time(points[-1].time)
    parts.append(
        f'<text x="{PAD_LEFT}" y="{HEIGHT - 12}" class="axis">{escape(first[5:])}</text>'
        f'<text x="{WIDTH - PAD_RIGHT}" y="{HEIGHT - 12}" class="axis" text-anchor="end">'
        f"{escape(last[5:])}</text>"
    )
    parts.append("</svg>")
    return "".join(parts)
