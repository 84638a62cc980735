"""The monthly progress chart: each program row's cumulative result as a share of its target, month
by month, against the 100% line (server-rendered SVG, classes only; the table beside it has the figures)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 640, 260, 48, 12, 12, 28


def cumulative_rates(monthly: Sequence[int], target: int | None) -> list[float] | None:
    """Month by month, the result so far ÷ the target (None without a target)."""
    if not target:
        return None
    total, out = 0, []
    for value in monthly:
        total += value
        out.append(total / target)
    return out


def progress_chart(title: str, series: Sequence[tuple[str, list[float] | None]], month_label: str) -> Markup:
    """One line per row with a target (rows without one are left out), y from 0 to the largest rate
    (at least 100%, at most 400% drawn), x the months 1–12."""
    drawn = [(name, rates) for name, rates in series if rates]
    top = min(4.0, max([1.0, *(max(r) for _, r in drawn)]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(month: int) -> float:
        return LEFT + plot_w * (month - 0.5) / 12

    def y(rate: float) -> float:
        return TOP + plot_h * (1 - min(rate, top) / top)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<line class="chart-axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}"/>',
        f'<line class="chart-target" x1="{LEFT}" y1="{y(1.0):.1f}" x2="{WIDTH - RIGHT}" y2="{y(1.0):.1f}"/>',
        f'<text class="chart-tick" x="{LEFT - 6}" y="{y(1.0) + 4:.1f}" text-anchor="end">100%</text>',
        f'<text class="chart-tick" x="{LEFT - 6}" y="{TOP + 10}" text-anchor="end">{top * 100:.0f}%</text>',
    ]
    for month in range(1, 13):
        parts.append(
            f'<text class="chart-tick" x="{x(month):.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
            f"{escape(month_label % month)}</text>"
        )
    for i, (name, rates) in enumerate(drawn):
        points = " ".join(f"{x(m + 1):.1f},{y(rate):.1f}" for m, rate in enumerate(rates or []))
        parts.append(
            f'<polyline class="chart-line s{i % 6}" points="{points}"><title>{escape(name)}</title></polyline>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text part went through html.escape)
