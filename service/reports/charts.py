"""Server-rendered SVG charts (no script, no CDN, no inline styles: classes only).

Each chart is an <svg role="img"> with a <title>; the pages always show the same figures in
a table beside it, which is what screen readers and printouts rely on.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from service.lib.amounts import money


def _nice_max(value: int) -> int:
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = int(step * magnitude)
        if top >= value:
            return top
    return value


def bar_chart(title: str, items: Sequence[tuple[str, int]], *, locale: str = "ko", width: int = 640) -> Markup:
    """Horizontal bars, largest value = full width; label left, amount right."""
    row_height, label_width, value_width = 28, 210, 110
    height = max(1, len(items)) * row_height + 10
    plot = width - label_width - value_width
    top = _nice_max(max((v for _, v in items), default=0))
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for i, (label, value) in enumerate(items):
        y = 5 + i * row_height
        bar = 0 if top == 0 else max(1, round(plot * value / top)) if value > 0 else 0
        short = label if len(label) <= 16 else label[:15] + "…"
        parts.append(
            f'<text class="chart-label" x="{label_width - 8}" y="{y + 18}" text-anchor="end">{escape(short)}</text>'
            f'<rect class="chart-bar" x="{label_width}" y="{y + 4}" width="{bar}" height="{row_height - 8}" rx="2">'
            f"<title>{escape(label)}: {escape(money(value, locale))}</title></rect>"
            f'<text class="chart-value" x="{label_width + bar + 6}" y="{y + 18}">{escape(money(value, locale))}</text>'
        )
    if not items:
        parts.append(f'<text class="chart-label" x="10" y="20">{escape("–")}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text part went through html.escape)


def column_chart(title: str, items: Sequence[tuple[str, int]], *, locale: str = "ko", width: int = 640) -> Markup:
    """Vertical columns (e.g. months), with the axis maximum labelled."""
    height, bottom, left = 240, 30, 70
    plot_h = height - bottom - 20
    top = _nice_max(max((v for _, v in items), default=0))
    slot = (width - left - 10) / max(1, len(items))
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<line class="chart-axis" x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}"/>',
        f'<text class="chart-tick" x="{left - 6}" y="24" text-anchor="end">{escape(money(top, locale))}</text>',
        f'<line class="chart-grid" x1="{left}" y1="20" x2="{width - 10}" y2="20"/>',
    ]
    for i, (label, value) in enumerate(items):
        h = 0 if value <= 0 else max(1, round(plot_h * value / top))
        x = left + i * slot + slot * 0.15
        parts.append(
            f'<rect class="chart-bar" x="{x:.1f}" y="{height - bottom - h}" width="{slot * 0.7:.1f}" height="{h}">'
            f"<title>{escape(label)}: {escape(money(value, locale))}</title></rect>"
            f'<text class="chart-tick" x="{x + slot * 0.35:.1f}" y="{height - bottom + 16}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text part went through html.escape)


def rate_chart(title: str, items: Sequence[tuple[str, float | None]], *, width: int = 640) -> Markup:
    """Achievement rates as bars against a 100% line (capped at 150% for drawing)."""
    row_height, label_width = 26, 210
    height = max(1, len(items)) * row_height + 10
    plot = width - label_width - 70
    full = plot / 1.5
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for i, (label, rate) in enumerate(items):
        y = 5 + i * row_height
        value = 0.0 if rate is None else min(rate, 1.5)
        bar = round(full * value)
        shown = "–" if rate is None else f"{rate * 100:.0f}%"
        css = "chart-bar" if rate is None or rate >= 1 else "chart-bar short"
        short = label if len(label) <= 16 else label[:15] + "…"
        parts.append(
            f'<text class="chart-label" x="{label_width - 8}" y="{y + 17}" text-anchor="end">{escape(short)}</text>'
            f'<rect class="{css}" x="{label_width}" y="{y + 4}" width="{bar}" height="{row_height - 8}" rx="2">'
            f"<title>{escape(label)}: {shown}</title></rect>"
            f'<text class="chart-value" x="{label_width + bar + 6}" y="{y + 17}">{shown}</text>'
        )
    parts.append(
        f'<line class="chart-target" x1="{label_width + full:.1f}" y1="0" x2="{label_width + full:.1f}" y2="{height}"/>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text part went through html.escape)
