"""Bar charts drawn on the server as SVG: no script, no external file, readable with
the table beside each one. Suppressed counts (under 5) are drawn as an outlined stub
marked "fewer than 5", never as their value."""

from __future__ import annotations

from markupsafe import Markup, escape

from reports.services import Figure, is_suppressed, shown

COLOURS = ("#1f5f8b", "#b5651d", "#2e7d32", "#6a1b9a", "#00838f", "#c62828", "#4e342e", "#37474f")
BAR, GAP, HEIGHT, LEFT, TOP, LEGEND_LINE = 14, 10, 160, 40, 10, 18


def bar_chart(figure: Figure, label: str) -> Markup:
    keys = figure.keys
    months = figure.months
    group_width = max(len(keys), 1) * BAR + GAP
    width = LEFT + max(len(months), 1) * group_width + 10
    highest = max([figure.value(month, key) for month in months for key, _ in keys] + [SMALL_FLOOR])
    legend_top = TOP + HEIGHT + 40
    height = legend_top + LEGEND_LINE * max(len(keys), 1) + 6
    parts = [f'<svg class="report-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img" aria-label="{escape(label)}">']
    baseline = TOP + HEIGHT
    parts.append(f'<line x1="{LEFT}" y1="{baseline}" x2="{width - 5}" y2="{baseline}" stroke="#444"/>')
    parts.append(f'<text x="{LEFT - 6}" y="{TOP + 10}" text-anchor="end" font-size="11">{highest}</text>')
    parts.append(f'<text x="{LEFT - 6}" y="{baseline}" text-anchor="end" font-size="11">0</text>')
    for column, month in enumerate(months):
        x0 = LEFT + column * group_width + GAP // 2
        for index, (key, key_label) in enumerate(keys):
            value = figure.value(month, key)
            x = x0 + index * BAR
            colour = COLOURS[index % len(COLOURS)]
            title = escape(f"{month}, {key_label}: {shown(value)}")
            if is_suppressed(value):
                parts.append(f'<rect x="{x + 1}" y="{baseline - 8}" width="{BAR - 2}" height="8" fill="none" '
                             f'stroke="{colour}" stroke-dasharray="2 2"><title>{title}</title></rect>')
            elif value:
                bar = max(round(HEIGHT * value / highest), 1)
                parts.append(f'<rect x="{x + 1}" y="{baseline - bar}" width="{BAR - 2}" height="{bar}" '
                             f'fill="{colour}"><title>{title}</title></rect>')
        parts.append(f'<text x="{x0 + (group_width - GAP) / 2}" y="{baseline + 16}" text-anchor="middle" '
                     f'font-size="11">{escape(month)}</text>')
    for index, (_key, key_label) in enumerate(keys):
        y = legend_top + index * LEGEND_LINE
        parts.append(f'<rect x="{LEFT}" y="{y}" width="12" height="12" fill="{COLOURS[index % len(COLOURS)]}"/>')
        parts.append(f'<text x="{LEFT + 18}" y="{y + 11}" font-size="12">{escape(key_label)}</text>')
    parts.append("</svg>")
    # Every value above is a number or escaped text.
    return Markup("".join(parts))  # noqa: S704  # nosec B704


SMALL_FLOOR = 5
