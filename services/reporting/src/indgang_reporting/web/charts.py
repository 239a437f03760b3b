"""Bar charts as server-rendered SVG (no script, no CDN), each with a text alternative:
a title and a description naming every bar and its value, and the same figures in the
table beside it. No inline style (the pages' Content-Security-Policy refuses it): the
size comes from reporting.css. Colours from DKFDS' palette with at least 3:1 contrast to white
(WCAG 1.4.11); each bar's value is written next to it, so no colour carries meaning."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

BAR = "#0059b3"
TEXT = "#1a1a1a"
ROW = 28
LABEL_WIDTH = 230
BAR_WIDTH = 380
WIDTH = LABEL_WIDTH + BAR_WIDTH + 80


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    shown: str  # the value as written


def bar_chart(chart_id: str, title: str, bars: list[Bar], summary: str) -> str:
    """One horizontal bar per row; `summary` says what the bars measure."""
    biggest = max((b.value for b in bars), default=0) or 1
    height = ROW * len(bars) + 10
    described = "; ".join(f"{b.label}: {b.shown}" for b in bars) or "–"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{escape(chart_id)}" class="indgang-chart" '
        f'role="img" aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" focusable="false">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(summary)}: {escape(described)}</desc>',
    ]
    for i, bar in enumerate(bars):
        y = 5 + i * ROW
        width = max(0.0, bar.value) / biggest * BAR_WIDTH
        parts += [
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 18}" text-anchor="end" font-size="14" '
            f'fill="{TEXT}">{escape(_short(bar.label))}</text>',
            f'<rect x="{LABEL_WIDTH}" y="{y + 4}" width="{width:.1f}" height="{ROW - 8}" '
            f'fill="{BAR}"/>',
            f'<text x="{LABEL_WIDTH + width + 6:.1f}" y="{y + 18}" font-size="14" '
            f'fill="{TEXT}">{escape(bar.shown)}</text>',
        ]
    parts.append("</svg>")
    return "".join(parts)


def _short(text: str, most: int = 30) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"
