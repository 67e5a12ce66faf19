"""Charts drawn on the server as inline SVG: no script and no CDN (installations may be offline).

Every text is escaped; each chart has a title and a description for screen readers, and the
numbers it draws are also shown in a table next to it.
"""

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

MET, MISSED, OPEN = "#0b6e4f", "#b3261e", "#9aa3b2"
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _nice_max(value: int) -> int:
    if value <= 4:
        return max(value, 1)
    step = 10 ** (len(str(value)) - 1)
    for factor in (1, 2, 5, 10):
        if value <= factor * step:
            return factor * step
    return value


def stacked_bars_svg(*, chart_id: str, title: str, labels: list[str], series: list[tuple[str, str, list[int]]],
                     width: int = 320, height: int = 200) -> SafeString:
    """Vertical bars, one per label, stacked from `series` = [(name, colour, values)]."""
    left, right, top, bottom = 28, 6, 10, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(values[i] for _name, _colour, values in series) for i in range(len(labels))]
    top_value = _nice_max(max(totals, default=0))
    slot = plot_w / max(len(labels), 1)
    bar = slot * 0.7
    parts = []
    # Whole numbers only on the axis: counts have no halves.
    for value in sorted({0, top_value // 2, top_value}):
        y = top + plot_h - plot_h * value / top_value
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d9dde5"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" {FONT}>{value}</text>')
    for i, label in enumerate(labels):
        x = left + slot * i + (slot - bar) / 2
        base = top + plot_h
        for name, colour, values in series:
            value = values[i]
            if not value:
                continue
            h = plot_h * value / top_value
            base -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{escape(label)}: {escape(name)} {value}</title></rect>"
            )
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle" {FONT}>'
                     f"{escape(label)}</text>")
    legend_x = left
    for name, colour, _values in series:
        parts.append(f'<rect x="{legend_x}" y="{height - 18}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{legend_x + 14}" y="{height - 9}" {FONT}>{escape(name)}</text>')
        legend_x += 14 + 7 * len(str(name)) + 14
    description = "; ".join(
        f"{label}: " + ", ".join(f"{name} {values[i]}" for name, _c, values in series) for i, label in enumerate(labels)
    )
    return format_html(
        '<svg class="chart" id="{}" viewBox="0 0 {} {}" role="img" aria-labelledby="{}-title {}-desc" '
        'xmlns="http://www.w3.org/2000/svg"><title id="{}-title">{}</title><desc id="{}-desc">{}</desc>{}</svg>',
        chart_id, width, height, chart_id, chart_id, chart_id, title, chart_id, description, mark_safe("".join(parts)),  # noqa: S308 - built from escaped text and numbers
    )


def horizontal_bars_svg(*, chart_id: str, title: str, items: list[tuple[str, int, str]],
                        width: int = 320) -> SafeString:
    """One horizontal bar per (label, value, colour)."""
    row, left, right = 28, 130, 30
    height = row * max(len(items), 1) + 8
    top_value = _nice_max(max((value for _label, value, _colour in items), default=0))
    parts = []
    for i, (label, value, colour) in enumerate(items):
        y = 4 + i * row
        w = (width - left - right) * value / top_value
        parts.append(f'<text x="{left - 6}" y="{y + 17}" text-anchor="end" {FONT}>{escape(label)}</text>')
        parts.append(f'<rect x="{left}" y="{y + 4}" width="{w:.1f}" height="18" fill="{colour}"/>')
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + 17}" {FONT}>{value}</text>')
    description = "; ".join(f"{label}: {value}" for label, value, _colour in items)
    return format_html(
        '<svg class="chart" id="{}" viewBox="0 0 {} {}" role="img" aria-labelledby="{}-title {}-desc" '
        'xmlns="http://www.w3.org/2000/svg"><title id="{}-title">{}</title><desc id="{}-desc">{}</desc>{}</svg>',
        chart_id, width, height, chart_id, chart_id, chart_id, title, chart_id, description, mark_safe("".join(parts)),  # noqa: S308 - built from escaped text and numbers
    )
