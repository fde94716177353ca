"""Bar charts as SVG, written on the server: no script, no CDN, readable without JavaScript.

Hand-written rather than drawn by a plotting library: a chart is a few rectangles and
labels, built in microseconds, escaped like any page text, and the same bytes in every
browser. Each chart is an ``<svg role="img">`` with a ``<title>`` (what a screen reader says)
and every bar carries its value in a ``<title>`` of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
HEIGHT = 260
MARGIN_START = 48  # room for the value axis
MARGIN_END = 12
MARGIN_TOP = 16
MARGIN_BOTTOM = 56  # room for the bar labels
SERIES_CLASSES = {"own": "series-own", "peers": "series-peers"}
SERIES_COLOURS = {"own": "#1f5f8b", "peers": "#b5581c"}


@dataclass(frozen=True)
class Bar:
    label: str  # under the bar (a date, a category)
    value: float
    series: str  # "own" or "peers"
    note: str  # the bar's tooltip: the exact figure in words


def bar_chart(
    chart_id: str, title: str, bars: list[Bar], low: float, high: float, ticks: list[float],
    tick_format: str = "{:g}", legend: dict[str, str] | None = None,
) -> Markup:  # fmt: skip
    """An SVG bar chart of ``bars`` on a value axis from ``low`` to ``high`` (low may be
    negative: bars then grow from the zero line)."""
    plot_width = WIDTH - MARGIN_START - MARGIN_END
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    span = (high - low) or 1.0

    def y_of(value: float) -> float:
        clamped = min(max(value, low), high)
        return MARGIN_TOP + plot_height * (high - clamped) / span

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
    ]
    for tick in ticks:
        y = y_of(tick)
        parts.append(
            f'<line x1="{MARGIN_START}" y1="{y:.1f}" x2="{WIDTH - MARGIN_END}" y2="{y:.1f}" '
            f'stroke="#ccc" stroke-width="1"/>'
            f'<text x="{MARGIN_START - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#444">{escape(tick_format.format(tick))}</text>'
        )
    if bars:
        slot = plot_width / len(bars)
        width = max(2.0, min(48.0, slot * 0.7))
        zero = y_of(max(low, 0.0))
        for index, bar in enumerate(bars):
            x = MARGIN_START + slot * index + (slot - width) / 2
            top, bottom = sorted((y_of(bar.value), zero))
            colour = SERIES_COLOURS.get(bar.series, "#555")
            css = SERIES_CLASSES.get(bar.series, "")
            parts.append(
                f'<rect class="bar {css}" x="{x:.1f}" y="{top:.1f}" width="{width:.1f}" '
                f'height="{max(bottom - top, 1.0):.1f}" fill="{colour}">'
                f"<title>{escape(bar.note)}</title></rect>"
            )
            label_x = x + width / 2
            label_y = HEIGHT - MARGIN_BOTTOM + 14
            parts.append(
                f'<text x="{label_x:.1f}" y="{label_y:.1f}" font-size="10" fill="#222" '
                f'text-anchor="end" transform="rotate(-35 {label_x:.1f} {label_y:.1f})">'
                f"{escape(bar.label)}</text>"
            )
    parts.extend(_legend(legend or {}))
    parts.append("</svg>")
    return Markup("".join(parts))


def _legend(legend: dict[str, str]) -> list[str]:
    parts = []
    for index, (series, words) in enumerate(legend.items()):
        x = WIDTH - MARGIN_END - 150 * (len(legend) - index)
        colour = SERIES_COLOURS.get(series, "#555")
        parts.append(
            f'<rect x="{x}" y="2" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="11" font-size="11" fill="#222">{escape(words)}</text>'
        )
    return parts
