"""Chart primitives that return inline SVG markup: columns, horizontal bars, a donut.

Charts are drawn here, in Python, rather than by a JavaScript library: the page stays a
small self-contained file that renders with scripts off, fetches nothing, and carries its
numbers as text (what the tests and a reader's Ctrl-F look for). Hover details use SVG
<title> elements, which browsers show as native tooltips.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

FONT_PX = 12
CHAR_PX = 7.4  # average glyph width of DejaVu Sans at 12 px, for laying out labels


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # what is written at the end of the bar
    tooltip: str = ""
    color: str = "var(--accent)"
    # A stacked bar: (value, colour, tooltip) per part, drawn left to right; `value` is their sum.
    parts: tuple[tuple[float, str, str], ...] = ()


def nice_ceiling(value: float) -> float:
    """The smallest 1/2/2.5/5 x 10^k at or above `value` (axis maximum)."""
    if value <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _svg(width: float, height: float, label: str, body: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">{body}</svg>'
    )


def _gridlines(
    left: float, right: float, top: float, plot_h: float, top_value: float, unit: str = ""
) -> list[str]:
    """Five gridlines with their ticks, at 0, 1/4 ... of the axis maximum."""
    parts = []
    for i in range(5):
        value = top_value * i / 4
        y = top + plot_h - plot_h * value / top_value
        parts.append(
            f'<line class="grid" x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{compact(value)}{escape(unit)}</text>"
        )
    return parts


def columns(
    label: str,
    bars: Sequence[Bar],
    *,
    width: float = 640,
    height: float = 240,
    show_values: bool = True,
    label_every: int = 1,
    max_slot: float | None = None,
) -> str:
    """Vertical bars over a category axis, values on top (unless too dense to read)."""
    if not bars:
        return '<p class="empty">no data yet</p>'
    left, right, top, bottom = 48, 8, 20, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = nice_ceiling(max(b.value for b in bars))
    slot = min(plot_w / len(bars), max_slot or plot_w)
    parts = _gridlines(left, width - right, top, plot_h, top_value)
    for i, bar in enumerate(bars):
        h = plot_h * bar.value / top_value
        x = left + i * slot + slot * 0.12
        y = top + plot_h - h
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.76:.1f}" '
            f'height="{h:.1f}" fill="{bar.color}"><title>{escape(bar.tooltip or bar.text)}'
            "</title></rect>"
        )
        center = x + slot * 0.38
        if show_values:
            parts.append(
                f'<text class="value" x="{center:.1f}" y="{y - 5:.1f}" text-anchor="middle">'
                f"{escape(bar.text)}</text>"
            )
        if i % label_every == 0:
            parts.append(
                f'<text class="tick" x="{center:.1f}" y="{height - bottom + 16}" '
                f'text-anchor="middle">{escape(bar.label)}</text>'
            )
    return _svg(width, height, label, "".join(parts))


def hbars(label: str, bars: Sequence[Bar], *, width: float = 640) -> str:
    """Horizontal bars, one per row: label left, bar, the number written after the bar."""
    if not bars:
        return '<p class="empty">no data yet</p>'
    row_h, pad = 26, 6
    label_w = min(max(len(b.label) for b in bars) * CHAR_PX + 12, width * 0.48)
    text_w = max(len(b.text) for b in bars) * CHAR_PX + 12
    plot_w = width - label_w - text_w
    top_value = max(b.value for b in bars) or 1
    height = len(bars) * row_h + 2 * pad
    parts = []
    for i, bar in enumerate(bars):
        y = pad + i * row_h
        w = max(plot_w * bar.value / top_value, 1.5)  # a zero still shows as a sliver
        parts.append(
            f'<text class="label" x="{label_w - 8:.1f}" y="{y + row_h / 2 + 4:.1f}" '
            f'text-anchor="end">{escape(_clip(bar.label, label_w))}</text>'
        )
        pieces = bar.parts or ((bar.value, bar.color, bar.tooltip or bar.label),)
        x = label_w
        for value, color, tooltip in pieces:
            piece_w = w * value / bar.value if bar.value else w
            if piece_w <= 0:
                continue
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y + 4}" width="{piece_w:.1f}" '
                f'height="{row_h - 8}" fill="{color}"><title>{escape(tooltip)}</title></rect>'
            )
            x += piece_w
        parts.append(
            f'<text class="value" x="{label_w + w + 6:.1f}" y="{y + row_h / 2 + 4:.1f}">'
            f"{escape(bar.text)}</text>"
        )
    return _svg(width, height, label, "".join(parts))


def grouped_columns(
    label: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float]]],
    *,
    width: float = 1200,
    height: float = 240,
    unit: str = "",
) -> str:
    """Several values per category side by side, e.g. p50/p95/p99 per day, with a legend.

    `series` is (name, colour, one value per category); tooltips give name, category, value.
    """
    if not categories or not series:
        return '<p class="empty">no data yet</p>'
    left, right, top, bottom = 56, 8, 28, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = nice_ceiling(max(max(values) for _, _, values in series))
    slot = min(plot_w / len(categories), 120)
    bar_w = slot * 0.76 / len(series)
    parts = _gridlines(left, width - right, top, plot_h, top_value, unit)
    for c, category in enumerate(categories):
        x0 = left + c * slot + slot * 0.12
        for s, (name, color, values) in enumerate(series):
            h = plot_h * values[c] / top_value
            parts.append(
                f'<rect class="bar" x="{x0 + s * bar_w:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{bar_w:.1f}" height="{h:.1f}" fill="{color}"><title>'
                f"{escape(f'{category} {name}: {values[c]:,.0f}{unit}')}</title></rect>"
            )
        parts.append(
            f'<text class="tick" x="{x0 + slot * 0.38:.1f}" y="{height - bottom + 16}" '
            f'text-anchor="middle">{escape(category)}</text>'
        )
    for s, (name, color, _) in enumerate(series):  # legend along the top
        x = left + s * 90
        parts.append(
            f'<rect x="{x}" y="4" width="12" height="12" rx="2" fill="{color}"/>'
            f'<text class="label" x="{x + 18}" y="14">{escape(name)}</text>'
        )
    return _svg(width, height, label, "".join(parts))


def donut(label: str, slices: Sequence[Bar], *, size: float = 200, width: float = 640) -> str:
    """Shares of a whole as a ring, with a legend giving each slice's count and percent."""
    total = sum(s.value for s in slices)
    if not total:
        return '<p class="empty">no data yet</p>'
    radius, stroke = size * 0.36, size * 0.16
    circumference = 2 * math.pi * radius
    center = size / 2
    parts, offset = [], 0.0
    for s in slices:
        length = circumference * s.value / total
        # One circle per slice, its dash as long as its share, rotated to start at 12 o'clock.
        parts.append(
            f'<circle cx="{center}" cy="{center}" r="{radius:.1f}" fill="none" '
            f'stroke="{s.color}" stroke-width="{stroke:.1f}" '
            f'stroke-dasharray="{length:.2f} {circumference - length:.2f}" '
            f'stroke-dashoffset="{-offset:.2f}" transform="rotate(-90 {center} {center})">'
            f"<title>{escape(s.tooltip or s.label)}</title></circle>"
        )
        offset += length
    legend_x, row_h = size + 16, 22
    for i, s in enumerate(slices):
        y = 24 + i * row_h
        parts.append(
            f'<rect x="{legend_x}" y="{y - 11}" width="12" height="12" rx="2" fill="{s.color}"/>'
            f'<text class="label" x="{legend_x + 18}" y="{y}">{escape(s.label)}</text>'
            f'<text class="value" x="{width - 12}" y="{y}" text-anchor="end">'
            f"{escape(s.text)}</text>"
        )
    height = max(size, 24 + len(slices) * row_h)
    return _svg(width, height, label, "".join(parts))


def compact(value: float) -> str:
    for threshold, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= threshold:
            return f"{value / threshold:.3g}{suffix}"
    return f"{value:.3g}"


def _clip(text: str, width_px: float) -> str:
    keep = int(width_px / CHAR_PX) - 1
    return text if len(text) <= keep else text[: keep - 1] + "…"
