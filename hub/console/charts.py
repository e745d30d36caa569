"""Charts drawn server-side as inline SVG: no JavaScript, readable by screen readers (a title, a
description, and every value as text next to its bar), and the same numbers are in a table below."""

from __future__ import annotations

from html import escape

BAR_WIDTH = 360
LABEL_WIDTH = 140
ROW_HEIGHT = 24


def bar_chart(rows: list[tuple[str, int]], *, title: str, unit: str, chart_id: str) -> str:
    """A horizontal bar chart; `rows` are (label, value) with integer values."""
    top = max((value for _, value in rows), default=0) or 1
    height = ROW_HEIGHT * len(rows) + 10
    bars = []
    for index, (label, value) in enumerate(rows):
        y = 5 + ROW_HEIGHT * index
        width = int(BAR_WIDTH * value / top)
        bars.append(
            f'<g><text x="0" y="{y + 15}" font-size="13" fill="#1a1a1a">{escape(label)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width}" height="18" fill="#2f6f4f"></rect>'
            f'<text x="{LABEL_WIDTH + 5 + width}" y="{y + 15}" font-size="13" fill="#1a1a1a">'
            f"{value} {escape(unit)}</text></g>"
        )
    summary = "; ".join(f"{label}: {value} {unit}" for label, value in rows)
    return (
        f'<svg role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" width="{BAR_WIDTH + 240}"'
        f' height="{height}" viewBox="0 0 {BAR_WIDTH + 240} {height}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(summary)}</desc>'
        f"{''.join(bars)}</svg>"
    )
