"""Inline SVG charts drawn by hand: horizontal bars with intervals, lines, sparklines.

Why our own: the report must be one self-contained file, and the core stays free of plotting
libraries. Every label goes through ``html.escape``; colours come from :mod:`.style`.

>>> svg = bar_chart([Bar("advise", 0.25, 0.1, 0.4)], max_value=1.0)
>>> svg.startswith("<svg") and "advise" in svg
True
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from attunement.report.style import FALLBACK_COLOR


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _n(x: float) -> str:
    """A coordinate with one decimal (keeps the file small)."""
    return f"{x:.1f}"


def percent(x: float) -> str:
    """0.253 -> '25%'."""
    return f"{x:.0%}"


@dataclass(frozen=True)
class Bar:
    """One bar: a value with an optional interval; ``muted`` draws a reference bar."""

    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    color: str = FALLBACK_COLOR
    muted: bool = False
    note: str = ""


def bar_chart(
    bars: Sequence[Bar],
    *,
    max_value: float | None = None,
    fmt: Callable[[float], str] = percent,
    width: int = 520,
    label_width: int = 150,
    row: int = 19,
    title: str = "",
) -> str:
    """Horizontal bars with 95% interval whiskers and the value printed after each bar."""
    values = [b.high if b.high is not None else b.value for b in bars]
    top = max_value or max([v for v in values if v is not None] + [1e-9])
    plot_w = width - label_width - 115  # room for "100% [100%, 100%]"
    height = row * len(bars) + 22
    scale = plot_w / top
    out = [
        f'<svg width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(title)}">',
    ]
    if title:
        out.append(f"<title>{_e(title)}</title>")
    x0 = label_width
    for i, b in enumerate(bars):
        y = 4 + i * row
        mid = y + row / 2
        weight = "normal" if b.muted else "600"
        size = 11 if b.muted else 12
        out.append(
            f'<text x="{x0 - 6}" y="{_n(mid + 4)}" text-anchor="end" font-size="{size}" '
            f'font-weight="{weight}" fill="#333">{_e(b.label)}</text>'
        )
        if b.value is None:
            out.append(
                f'<text x="{x0 + 4}" y="{_n(mid + 4)}" font-size="11" fill="#888">n/a</text>'
            )
            continue
        w = max(b.value * scale, 0.0)
        opacity = "0.55" if b.muted else "0.9"
        out.append(
            f'<rect x="{x0}" y="{_n(y + 3)}" width="{_n(w)}" height="{row - 6}" '
            f'fill="{_e(b.color)}" fill-opacity="{opacity}"><title>{_e(b.label)}: '
            f"{_e(fmt(b.value))}{_e(b.note)}</title></rect>"
        )
        end = w
        if b.low is not None and b.high is not None and b.high > b.low:
            lo, hi = x0 + b.low * scale, x0 + b.high * scale
            out.append(
                f'<path d="M{_n(lo)} {_n(mid)}H{_n(hi)}M{_n(lo)} {_n(mid - 4)}V{_n(mid + 4)}'
                f'M{_n(hi)} {_n(mid - 4)}V{_n(mid + 4)}" stroke="#222" stroke-width="1.2" '
                'fill="none"/>'
            )
            end = max(end, b.high * scale)
        text = fmt(b.value)
        if b.low is not None and b.high is not None:
            text += f" [{fmt(b.low)}, {fmt(b.high)}]"
        out.append(
            f'<text x="{_n(x0 + end + 5)}" y="{_n(mid + 4)}" font-size="11" fill="#444">'
            f"{_e(text)}</text>"
        )
    axis_y = 4 + row * len(bars) + 2
    out.append(f'<path d="M{x0} 2V{axis_y}" stroke="#999" stroke-width="1"/>')
    out.append(
        f'<text x="{x0}" y="{axis_y + 13}" font-size="10" fill="#888">0</text>'
        f'<text x="{_n(x0 + plot_w)}" y="{axis_y + 13}" font-size="10" fill="#888" '
        f'text-anchor="end">{_e(fmt(top))}</text>'
    )
    out.append("</svg>")
    return "".join(out)


@dataclass(frozen=True)
class Series:
    """One line: y values at x = 0, 1, 2, ... and how many dialogues it averages."""

    label: str
    values: Sequence[float]
    color: str = FALLBACK_COLOR
    n: int = 0


def line_chart(
    series: Sequence[Series],
    *,
    y_range: tuple[float, float] = (0.0, 100.0),
    guides: Sequence[tuple[float, str]] = (),
    x_label: str = "",
    width: int = 640,
    height: int = 300,
    title: str = "",
) -> str:
    """Lines on a shared x axis with a legend on the right; ``guides`` are dashed y levels."""
    left, right, top, bottom = 40, 170, 12, 36
    pw, ph = width - left - right, height - top - bottom
    ymin, ymax = y_range
    xmax = max((len(s.values) for s in series), default=1) - 1
    xmax = max(xmax, 1)

    def px(i: float) -> float:
        return left + pw * i / xmax

    def py(v: float) -> float:
        v = min(max(v, ymin), ymax)
        return top + ph * (1 - (v - ymin) / (ymax - ymin))

    out = [
        f'<svg width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(title)}">',
    ]
    if title:
        out.append(f"<title>{_e(title)}</title>")
    for k in range(5):
        v = ymin + (ymax - ymin) * k / 4
        out.append(
            f'<path d="M{left} {_n(py(v))}H{left + pw}" stroke="#eee"/>'
            f'<text x="{left - 5}" y="{_n(py(v) + 4)}" font-size="10" fill="#888" '
            f'text-anchor="end">{_e(f"{v:g}")}</text>'
        )
    for level, label in guides:
        out.append(
            f'<path d="M{left} {_n(py(level))}H{left + pw}" stroke="#999" '
            f'stroke-dasharray="4 3"/><text x="{left + pw - 3}" y="{_n(py(level) - 3)}" '
            f'font-size="10" fill="#777" text-anchor="end">{_e(label)}</text>'
        )
    step = max(1, xmax // 10)
    for i in range(0, xmax + 1, step):
        out.append(
            f'<text x="{_n(px(i))}" y="{top + ph + 14}" font-size="10" fill="#888" '
            f'text-anchor="middle">{i}</text>'
        )
    if x_label:
        out.append(
            f'<text x="{_n(left + pw / 2)}" y="{height - 4}" font-size="11" fill="#555" '
            f'text-anchor="middle">{_e(x_label)}</text>'
        )
    for j, s in enumerate(series):
        if not s.values:
            continue
        pts = " ".join(f"{_n(px(i))},{_n(py(v))}" for i, v in enumerate(s.values))
        tip = f"{s.label} (n={s.n}): " + ", ".join(f"{v:.0f}" for v in s.values)
        out.append(
            f'<polyline points="{pts}" fill="none" stroke="{_e(s.color)}" stroke-width="2">'
            f"<title>{_e(tip)}</title></polyline>"
        )
        for i, v in enumerate(s.values):
            out.append(f'<circle cx="{_n(px(i))}" cy="{_n(py(v))}" r="2.2" fill="{_e(s.color)}"/>')
        ly = top + 8 + j * 17
        out.append(
            f'<rect x="{left + pw + 12}" y="{ly - 8}" width="12" height="3" '
            f'fill="{_e(s.color)}"/><text x="{left + pw + 29}" y="{ly - 3}" font-size="11" '
            f'fill="#333">{_e(s.label)} (n={s.n})</text>'
        )
    out.append(f'<path d="M{left} {top}V{top + ph}H{left + pw}" stroke="#999" fill="none"/></svg>')
    return "".join(out)


def sparkline(
    values: Sequence[float],
    *,
    y_range: tuple[float, float] = (0.0, 100.0),
    width: int = 90,
    height: int = 20,
    color: str = "#1565c0",
    label: str = "",
) -> str:
    """A tiny line of one dialogue's emotion (start, then after each user reaction)."""
    if not values:
        return ""
    ymin, ymax = y_range
    span = max(len(values) - 1, 1)

    def pt(i: int, v: float) -> str:
        v = min(max(v, ymin), ymax)
        x = 2 + (width - 4) * i / span
        y = 2 + (height - 4) * (1 - (v - ymin) / (ymax - ymin))
        return f"{_n(x)},{_n(y)}"

    pts = " ".join(pt(i, v) for i, v in enumerate(values))
    tip = label or " -> ".join(f"{v:.0f}" for v in values)
    return (
        f'<svg width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(tip)}">'
        f"<title>{_e(tip)}</title>"
        f'<rect width="{width}" height="{height}" fill="#fafafa"/>'
        f'<polyline points="{pts}" fill="none" stroke="{_e(color)}" stroke-width="1.6"/></svg>'
    )
