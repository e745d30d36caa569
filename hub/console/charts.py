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


# Where each registry sits on the flow map: roughly its place in the Yangtze River Delta (Jiangsu
# north, Anhui west, Shanghai east, Zhejiang south); the national registry above, apart. A
# registry the map does not know yet is placed along the bottom.
MAP_WIDTH, MAP_HEIGHT = 640, 420
PLACES = {"JS": (330, 110), "AH": (110, 230), "SH": (540, 230), "ZJ": (330, 350), "CCER": (110, 70)}
NODE_RADIUS = 34
MAX_STROKE = 14


def _place(code: str, others: list[str]) -> tuple[int, int]:
    if code in PLACES:
        return PLACES[code]
    index = others.index(code)
    return 60 + 90 * index, MAP_HEIGHT - 30


def flow_map(
    flows: list[tuple[str, str, int]], names: dict[str, str], *, title: str, summary_unit: str, chart_id: str
) -> str:
    """The regions as circles and each flow origin → destination as an arrow whose width grows
    with its tonnes (labelled with them). ``flows`` are (origin, destination, tonnes) with tonnes
    > 0; ``names`` the regions' names for the description. Two flows in opposite directions bend
    to either side, so both stay visible."""
    codes = sorted({code for o, d, _ in flows for code in (o, d)} | set(PLACES))
    strays = [code for code in codes if code not in PLACES]
    top = max((tonnes for _, _, tonnes in flows), default=0) or 1
    arrows = []
    for origin, destination, tonnes in flows:
        (x1, y1), (x2, y2) = _place(origin, strays), _place(destination, strays)
        dx, dy = x2 - x1, y2 - y1
        length = max((dx * dx + dy * dy) ** 0.5, 1.0)
        ux, uy = dx / length, dy / length
        # start and end on the circles' rims; bend to the right of the direction of travel
        sx, sy = x1 + ux * NODE_RADIUS, y1 + uy * NODE_RADIUS
        ex, ey = x2 - ux * (NODE_RADIUS + 6), y2 - uy * (NODE_RADIUS + 6)
        cx, cy = (sx + ex) / 2 - uy * 40, (sy + ey) / 2 + ux * 40
        width = 2 + round((MAX_STROKE - 2) * tonnes / top)
        lx, ly = (sx + 2 * cx + ex) / 4, (sy + 2 * cy + ey) / 4
        arrows.append(
            f'<g class="flow"><path d="M{sx:.0f},{sy:.0f} Q{cx:.0f},{cy:.0f} {ex:.0f},{ey:.0f}"'
            f' fill="none" stroke="#2f6f4f" stroke-opacity="0.85" stroke-width="{width}"'
            f' marker-end="url(#{chart_id}-arrow)"></path>'
            f'<text x="{lx:.0f}" y="{ly:.0f}" font-size="13" fill="#1a1a1a" text-anchor="middle"'
            f' paint-order="stroke" stroke="#ffffff" stroke-width="4">{tonnes} t</text></g>'
        )
    nodes = []
    for code in codes:
        x, y = _place(code, strays)
        active = any(code in (o, d) for o, d, _ in flows)
        nodes.append(
            f'<g class="region"><circle cx="{x}" cy="{y}" r="{NODE_RADIUS}"'
            f' fill="{"#e6f0ea" if active else "#f3f3f3"}" stroke="#1a1a1a" stroke-width="1.5"></circle>'
            f'<text x="{x}" y="{y + 5}" font-size="15" font-weight="700" fill="#1a1a1a"'
            f' text-anchor="middle">{escape(code)}</text></g>'
        )
    described = "; ".join(
        f"{names.get(o, o)} → {names.get(d, d)}: {tonnes} {summary_unit}" for o, d, tonnes in flows
    )
    return (
        f'<svg role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" width="{MAP_WIDTH}"'
        f' height="{MAP_HEIGHT}" viewBox="0 0 {MAP_WIDTH} {MAP_HEIGHT}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(described)}</desc>'
        f'<defs><marker id="{chart_id}-arrow" viewBox="0 0 10 10" refX="6" refY="5" markerWidth="3"'
        f' markerHeight="3" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#2f6f4f"></path>'
        f"</marker></defs>{''.join(nodes)}{''.join(arrows)}</svg>"
    )
