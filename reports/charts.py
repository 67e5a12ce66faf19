"""Chart layout shared by the web page (inline SVG) and the PDF (reportlab.graphics): a chart is
laid out once as rectangles, lines and texts, then drawn by either backend, so both show the
same picture. No JavaScript, nothing fetched from elsewhere.

Hidden counts are drawn as a pale stub with their marker ("<5", "x"), withheld ones as "—":
a chart never shows a bar for a number the report does not publish.
"""

import math
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from .summary import Chart, Published, Series

WIDTH = 420
PALETTE = ("#0b6e4f", "#c98a00", "#3b5ba5", "#b3261e")
INK, MUTED, GRID, HIDDEN = "#1d2330", "#5b6475", "#d9dde5", "#e4e7ec"
FONT_SIZE = 12
# Axis numbers and month labels: 11 units, i.e. 11 px on a phone, where a chart keeps its 420 px
# drawing width and scrolls (.chart-scroll); smaller was hard to read (issue 16).
SMALL_SIZE = 11
LABEL_WIDTH = 150
BAR_HEIGHT = 14


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str


@dataclass(frozen=True)
class Line:
    points: tuple[tuple[float, float], ...]
    stroke: str
    width: float = 1.5


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    r: float
    fill: str


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    anchor: str = "start"  # start | middle | end
    size: float = FONT_SIZE
    fill: str = INK


@dataclass
class Figure:
    key: str
    title: str
    width: float
    height: float
    items: list = field(default_factory=list)
    # A plain-text summary of every value, for screen readers.
    description: str = ""


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """The width of `text` in the PDF's font (reports.pdf.pdf_fonts; DejaVu Sans where installed, wider
    than the browsers' system-ui), so a label measured to fit fits in the PDF and on the page."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from .pdf import pdf_fonts

    return stringWidth(text, pdf_fonts()[0], size)


def _shorten(text: str, width: float, size: float = FONT_SIZE) -> str:
    """The text, cut with "…" where it would be wider than `width` (the tables give it whole)."""
    if text_width(text, size) <= width:
        return text
    while len(text) > 1 and text_width(text + "…", size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _scale_max(values: list[Published]) -> int:
    """The axis maximum: four equal whole-number steps, the step a 1, 2 or 5 times a power of ten."""
    largest = max((v for v in values if isinstance(v, int)), default=0)
    quarter = max(largest / 4, 1)
    magnitude = 10 ** int(math.floor(math.log10(quarter)))
    step = next(s * magnitude for s in (1, 2, 5, 10) if s * magnitude >= quarter)
    return int(4 * step)


def _describe(chart: Chart) -> str:
    parts = []
    for series in chart.series:
        values = zip(chart.categories, series.values, strict=True)
        pairs = ", ".join(f"{c}: {'—' if v is None else v}" for c, v in values)
        parts.append(f"{series.name}: {pairs}")
    return "; ".join(parts)


def _bar_layout(n_series: int) -> tuple[float, float]:
    """(height of one category's group of bars, height of everything else) of a bar figure."""
    group = n_series * (BAR_HEIGHT + 2) + 8
    legend = 16 * n_series if n_series > 1 else 0
    return group, 8 + legend + 24


def bar_figure(chart: Chart, *, scale: int | None = None) -> Figure:
    """Horizontal bars, one group per category: long Vietnamese labels stay readable on a phone.
    `scale` fixes the axis maximum (the parts of a split chart share their axis)."""
    n_series = len(chart.series)
    group, _ = _bar_layout(n_series)
    legend = 16 * n_series if n_series > 1 else 0
    top = 8 + legend
    height = top + group * len(chart.categories) + 24
    figure = Figure(chart.key, chart.title, WIDTH, height, description=_describe(chart))
    plot_x, plot_w = LABEL_WIDTH + 8, WIDTH - LABEL_WIDTH - 60
    scale = scale or _scale_max([v for s in chart.series for v in s.values])
    if n_series > 1:
        _legend(figure, chart)
    for tick in range(5):
        x = plot_x + plot_w * tick / 4
        figure.items.append(Line(((x, top - 2), (x, height - 20)), GRID, 1))
        figure.items.append(Text(x, height - 6, f"{scale * tick / 4:g}", "middle", SMALL_SIZE, MUTED))
    for row, category in enumerate(chart.categories):
        y0 = top + row * group
        figure.items.append(Text(LABEL_WIDTH, y0 + group / 2 + 4, _shorten(category, LABEL_WIDTH), "end"))
        for index, series in enumerate(chart.series):
            y = y0 + 4 + index * (BAR_HEIGHT + 2)
            value = series.values[row]
            if isinstance(value, int):
                w = plot_w * value / scale
                figure.items.append(Rect(plot_x, y, w, BAR_HEIGHT, PALETTE[index % len(PALETTE)]))
                figure.items.append(Text(plot_x + w + 4, y + BAR_HEIGHT - 3, str(value), size=11))
            else:
                figure.items.append(Rect(plot_x, y, 6, BAR_HEIGHT, HIDDEN))
                label = "—" if value is None else str(value)
                figure.items.append(Text(plot_x + 10, y + BAR_HEIGHT - 3, label, size=11, fill=MUTED))
    return figure


def _legend(figure: Figure, chart: Chart) -> None:
    # One line per series: two names side by side do not fit a phone-sized chart.
    for index, series in enumerate(chart.series):
        y = 6 + 16 * index
        figure.items.append(Rect(8, y, 12, 12, PALETTE[index % len(PALETTE)]))
        figure.items.append(Text(24, y + 10, _shorten(series.name, figure.width - 24 - 4, 11), size=11))


def line_figure(chart: Chart) -> Figure:
    """One line per series over the months; a hidden month breaks the line and shows its marker."""
    top = 12 + 16 * len(chart.series)
    height = top + 200
    # Month labels are centred on their point: the margins leave room for half of the first and last.
    label_w = max((text_width(c, SMALL_SIZE) for c in chart.categories), default=0)
    left, right, bottom = max(40, label_w / 2 + 4), max(16, label_w / 2 + 4), 40
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    figure = Figure(chart.key, chart.title, WIDTH, height, description=_describe(chart))
    scale = _scale_max([v for s in chart.series for v in s.values])
    n = len(chart.categories)
    step = plot_w / max(n - 1, 1)
    for tick in range(5):
        y = top + plot_h - plot_h * tick / 4
        figure.items.append(Line(((left, y), (left + plot_w, y)), GRID, 1))
        figure.items.append(Text(left - 6, y + 4, f"{scale * tick / 4:g}", "end", SMALL_SIZE, MUTED))
    # Every k-th month when all of them side by side would overlap; the last one too where it fits.
    every = max(1, math.ceil((label_w + 6) / step)) if n > 1 else 1
    shown = list(range(0, n, every))
    if shown and shown[-1] != n - 1 and (n - 1 - shown[-1]) * step >= label_w + 6:
        shown.append(n - 1)
    for i in shown:
        figure.items.append(Text(left + i * step, height - bottom + 16, chart.categories[i], "middle", SMALL_SIZE,
                                 MUTED))
    _legend(figure, chart)
    for index, series in enumerate(chart.series):
        colour = PALETTE[index % len(PALETTE)]
        run: list[tuple[float, float]] = []
        for i, value in enumerate(series.values):
            px = left + i * step
            if isinstance(value, int):
                py = top + plot_h - plot_h * value / scale
                run.append((px, py))
                figure.items.append(Dot(px, py, 3, colour))
                continue
            if len(run) > 1:
                figure.items.append(Line(tuple(run), colour, 2))
            run = []
            label = "—" if value is None else str(value)
            figure.items.append(Text(px, top + plot_h - 6 - 12 * index, label, "middle", SMALL_SIZE, colour))
        if len(run) > 1:
            figure.items.append(Line(tuple(run), colour, 2))
    return figure


def figure_for(chart: Chart) -> Figure:
    return line_figure(chart) if chart.kind == "line" else bar_figure(chart)


def figures_within(chart: Chart, max_height: float) -> list[Figure]:
    """The chart as one figure, or, for a bar chart taller than `max_height` (in figure units, e.g.
    34 provinces on one page), as several figures of consecutive categories that each fit, on one
    shared axis so that bars compare across the parts. A line chart has a fixed height."""
    if chart.kind == "line":
        return [line_figure(chart)]
    group, fixed = _bar_layout(len(chart.series))
    per_part = max(1, int((max_height - fixed) // group))
    if len(chart.categories) <= per_part:
        return [bar_figure(chart)]
    scale = _scale_max([v for s in chart.series for v in s.values])
    figures = []
    for start in range(0, len(chart.categories), per_part):
        part = slice(start, start + per_part)
        figures.append(bar_figure(Chart(
            key=f"{chart.key}-{start // per_part + 1}", title=chart.title, kind=chart.kind,
            categories=chart.categories[part], series=[Series(s.name, s.values[part]) for s in chart.series],
        ), scale=scale))
    return figures


def svg(figure: Figure) -> str:
    """The figure as an inline SVG element: escaped text, an accessible title and description."""
    title_id, desc_id = f"chart-{figure.key}-title", f"chart-{figure.key}-desc"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {figure.width:g} {figure.height:g}" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" class="chart" data-chart="{escape(figure.key)}" '
        f'font-family="system-ui, sans-serif">',
        f'<title id="{title_id}">{escape(figure.title)}</title>',
        f'<desc id="{desc_id}">{escape(figure.description)}</desc>',
    ]
    for item in figure.items:
        if isinstance(item, Rect):
            parts.append(f'<rect x="{item.x:.1f}" y="{item.y:.1f}" width="{item.w:.1f}" height="{item.h:.1f}" '
                         f'fill="{item.fill}"/>')
        elif isinstance(item, Line):
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in item.points)
            parts.append(f'<polyline points="{points}" fill="none" stroke="{item.stroke}" '
                         f'stroke-width="{item.width:g}"/>')
        elif isinstance(item, Dot):
            parts.append(f'<circle cx="{item.x:.1f}" cy="{item.y:.1f}" r="{item.r:g}" fill="{item.fill}"/>')
        elif isinstance(item, Text):
            parts.append(f'<text x="{item.x:.1f}" y="{item.y:.1f}" text-anchor={quoteattr(item.anchor)} '
                         f'font-size="{item.size:g}" fill="{item.fill}">{escape(item.text)}</text>')
    parts.append("</svg>")
    return "".join(parts)
