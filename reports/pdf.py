"""The PDF download: headline figures, the same charts as the web page (drawn with
reportlab.graphics) and every published table."""

import functools
import io
import logging
from pathlib import Path
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils.translation import gettext as _
from reportlab.graphics.shapes import Circle, Drawing, Group, PolyLine, String
from reportlab.graphics.shapes import Rect as RLRect
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .charts import WIDTH as CHART_WIDTH
from .charts import Dot, Figure, Line, Rect, Text, figures_within
from .labels import TOTAL_LABEL, column_label, scope_label, statistic_title, table_title, value_label
from .models import MonthlyReport
from .periods import published_at_label
from .summary import charts, display, headlines, statistic_rows

logger = logging.getLogger(__name__)

# Standard PDF fonts have no Vietnamese letters (ạ, ố, ữ…): a TrueType font with them is embedded.
FONT_CANDIDATES = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf"),
    ("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
     "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"),
)
MAX_COLUMNS_PER_TABLE = 8


@functools.cache
def pdf_fonts() -> tuple[str, str]:
    """Register the report font (settings.REPORT_PDF_FONT, else the first system font found that
    covers Vietnamese) and return (regular, bold) font names."""
    configured = settings.REPORT_PDF_FONT
    candidates = [(configured, configured)] if configured else []
    for regular, bold in [*candidates, *FONT_CANDIDATES]:
        if Path(regular).is_file():
            bold = bold if Path(bold).is_file() else regular
            pdfmetrics.registerFont(TTFont("HopLuc", regular))
            pdfmetrics.registerFont(TTFont("HopLuc-Bold", bold))
            return "HopLuc", "HopLuc-Bold"
    logger.warning("No TrueType font with Vietnamese letters found; the PDF falls back to Helvetica")
    return "Helvetica", "Helvetica-Bold"


def _paragraph(text: str, style) -> Paragraph:
    # Paragraph reads its text as markup: "<5" would be taken for a tag.
    return Paragraph(escape(str(text)), style)


def _drawing(figure: Figure, width: float, font: str, max_height: float | None = None) -> Drawing:
    """The figure at the frame's width, or smaller when it would be taller than `max_height`."""
    scale = width / figure.width
    if max_height is not None and figure.height * scale > max_height:
        scale = max_height / figure.height
    drawing = Drawing(figure.width * scale, figure.height * scale)
    group = Group()
    group.transform = (scale, 0, 0, scale, 0, 0)

    def flip(y: float) -> float:
        return figure.height - y

    for item in figure.items:
        if isinstance(item, Rect):
            group.add(RLRect(item.x, flip(item.y + item.h), item.w, item.h, fillColor=colors.HexColor(item.fill),
                             strokeColor=None))
        elif isinstance(item, Line):
            points = [c for x, y in item.points for c in (x, flip(y))]
            group.add(PolyLine(points, strokeColor=colors.HexColor(item.stroke), strokeWidth=item.width))
        elif isinstance(item, Dot):
            group.add(Circle(item.x, flip(item.y), item.r, fillColor=colors.HexColor(item.fill), strokeColor=None))
        elif isinstance(item, Text):
            group.add(String(item.x, flip(item.y), item.text, fontName=font, fontSize=item.size,
                             fillColor=colors.HexColor(item.fill), textAnchor=item.anchor))
    drawing.add(group)
    return drawing


def _chart_flowables(chart_list, document, styles: dict) -> list:
    """Each chart under its title, at the frame's width. A chart taller than a page (a bar per
    province or commune) is split into parts that each fit a page, on one shared axis; anything
    still too tall is scaled down rather than refused (reportlab's LayoutError)."""
    width = document.width
    title_height = styles["h2"].leading + styles["h2"].spaceBefore + styles["h2"].spaceAfter
    # The frame's padding (6 pt each side) and some room for rounding.
    max_height = document.height - 12 - title_height - 4
    flowables = []
    for chart in chart_list:
        figures = figures_within(chart, max_height * CHART_WIDTH / width)
        for index, figure in enumerate(figures):
            title = chart.title if index == 0 else _("%(title)s (continued)") % {"title": chart.title}
            flowables.append(KeepTogether([
                _paragraph(title, styles["h2"]), _drawing(figure, width, styles["font"], max_height),
            ]))
    return flowables


def _table_flowables(table: dict, styles: dict) -> list:
    title = _paragraph(table_title(table), styles["h2"])
    if table["withheld"]:
        return [title, _paragraph(_("Withheld: too few cases to publish this table without identifying someone."),
                                 styles["body"])]
    columns = table["columns"]
    multi = len(columns) > 1
    flowables = [title]
    for start in range(0, len(columns), MAX_COLUMNS_PER_TABLE):
        chunk = range(start, min(start + MAX_COLUMNS_PER_TABLE, len(columns)))
        last = chunk.stop == len(columns)
        header = [""] + [_paragraph(column_label(table, columns[j]), styles["cell"]) for j in chunk]
        if multi and last:
            header.append(_paragraph(str(TOTAL_LABEL), styles["cell"]))
        rows = [header]
        for row, cells, total in zip(table["rows"], table["cells"], table["row_totals"], strict=True):
            line = [_paragraph(value_label(table["row_dim"], row, table), styles["cell"])]
            line += [display(cells[j]) for j in chunk]
            if multi and last:
                line.append(display(total))
            rows.append(line)
        footer = [str(TOTAL_LABEL)] + [display(table["column_totals"][j]) for j in chunk]
        if multi and last:
            footer.append(display(table["total"]))
        rows.append(footer)
        grid = Table(rows, repeatRows=1, colWidths=[55 * mm] + [None] * (len(rows[0]) - 1))
        grid.setStyle(TableStyle([
            ("FONT", (0, 0), (-1, -1), styles["font"], 7),
            ("FONT", (0, -1), (-1, -1), styles["bold"], 7),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#d9dde5")),
            ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))
        flowables += [grid, Spacer(1, 3 * mm)]
    return flowables


def _statistic_flowables(statistic: dict, styles: dict) -> list:
    rows = [[_paragraph(label, styles["cell"]), display(value)] for label, value in statistic_rows(statistic)]
    grid = Table(rows, colWidths=[55 * mm, 25 * mm])
    grid.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), styles["font"], 7),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#d9dde5")),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
    ]))
    return [_paragraph(statistic_title(statistic), styles["h2"]), grid, Spacer(1, 3 * mm)]


def report_pdf(report: MonthlyReport, *, trend: list[tuple[str, dict]]) -> bytes:
    font, bold = pdf_fonts()
    styles = {
        "font": font,
        "bold": bold,
        "h1": ParagraphStyle("h1", fontName=bold, fontSize=16, leading=20, spaceAfter=4),
        # keepWithNext: a table's title never ends a page without the table.
        "h2": ParagraphStyle("h2", fontName=bold, fontSize=11, leading=14, spaceBefore=8, spaceAfter=4, keepWithNext=1),
        "body": ParagraphStyle("body", fontName=font, fontSize=9, leading=12),
        "cell": ParagraphStyle("cell", fontName=font, fontSize=7, leading=8.5),
    }
    data = report.data
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=15 * mm,
        title=f"HopLuc {data['period']} {scope_label(data)}", author="HopLuc", subject=_("Monthly report"),
    )
    story = [
        _paragraph(_("Monthly report %(month)s: %(scope)s") % {"month": data["period"], "scope": scope_label(data)},
                  styles["h1"]),
        _paragraph(
            _("Version %(version)d, published %(at)s. Content hash %(hash)s; code %(code)s.") % {
                "version": report.version, "at": published_at_label(report.published_at),
                "hash": report.content_hash[:16], "code": report.code_version[:12],
            },
            styles["body"],
        ),
    ]
    if report.reason:
        story.append(_paragraph(_("Correction: %(reason)s") % {"reason": report.reason}, styles["body"]))
    story.append(_paragraph(_(
        '"<%(default)d" (or "<%(child)d" in child and commune tables) is a count from 1 to %(last)d; "x" is hidden '
        'so that a small count cannot be worked out; "—" is withheld. Aggregated counts only, never a case.'
    ) % {"default": data["thresholds"]["default"], "child": data["thresholds"]["child"],
         "last": data["thresholds"]["default"] - 1}, styles["body"]))
    story.append(Spacer(1, 4 * mm))
    rows = []
    for headline in headlines(data):
        value = display(headline.value)
        rows.append([_paragraph(headline.label, styles["body"]),
                     value if headline.share is None else f"{value} ({headline.share}%)"])
    summary = Table(rows, colWidths=[120 * mm, 40 * mm])
    summary.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), font, 9), ("ALIGN", (1, 0), (1, -1), "RIGHT"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#d9dde5")),
    ]))
    story.append(summary)
    story += _chart_flowables(charts(data, trend), document, styles)
    for table in data["tables"]:
        story += _table_flowables(table, styles)
    for statistic in data.get("statistics", []):
        story += _statistic_flowables(statistic, styles)
    document.build(story)
    return buffer.getvalue()
