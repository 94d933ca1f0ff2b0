"""The report as a PDF to sign and send: the same heading, table, notes and signatures as
the workbook (``report_files.py``), on landscape A4, drawn with reportlab (BSD licence, pure
Python, its ``Table`` repeats header rows on every page and wraps text in cells).

Vietnamese needs a font with its glyphs on every machine, so the package ships DejaVu Sans
Condensed (``fonts/``, with its licence) and never looks for a system font. A wide table still
fits the page: the font size goes down with the number of columns until the figures fit
whole, and the names wrap in what is left.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape

from ledger.interchange.document import SIGNATURES, Document
from ledger.interchange.report_files import (
    LABEL_HEADERS,
    SIGNATURE_HINTS,
    STT_HEADERS,
    figure_text,
    issuer_lines,
    national_heading,
    signing_text,
)

FONT_DIRECTORY = Path(__file__).parent / "fonts"
FONT = "DejaVuSansCondensed"
FONT_BOLD = "DejaVuSansCondensed-Bold"
MARGIN_PT = 28.0  # about 1 cm
CELL_PADDING_PT = 2.5  # at most: a small font gets less


def _padding(size: float) -> float:
    return min(CELL_PADDING_PT, size * 0.3)


FONT_SIZE_MAX_PT = 9.0
# Below 5 pt a table is hard to read, but a table wider than the page cannot be read at all:
# the font goes on shrinking to this floor (the CLI's --unit ty makes figures shorter).
FONT_SIZE_MIN_PT = 2.5
# The narrowest the label column gets before the font shrinks further: a name of about 25
# characters on one line, in ems of the font size.
LABEL_WIDTH_MIN_EM = 11.0


def render_pdf(document: Document, path: str | Path | IO[bytes]) -> None:
    """Build the PDF twice: the first pass counts the pages, so each footer reads "Trang 2/5"."""
    _register_fonts()
    probe = io.BytesIO()
    pages = _build(document, probe, pages=None)
    buffer = io.BytesIO()
    _build(document, buffer, pages=pages)
    if isinstance(path, (str, Path)):
        Path(path).write_bytes(buffer.getvalue())
    else:
        path.write(buffer.getvalue())


def _register_fonts() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    pdfmetrics.registerFont(TTFont(FONT, str(FONT_DIRECTORY / "DejaVuSansCondensed.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(FONT_DIRECTORY / "DejaVuSansCondensed-Bold.ttf")))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD
    )


def _build(document: Document, out: io.BytesIO, pages: int | None) -> int:
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.platypus import SimpleDocTemplate

    template = SimpleDocTemplate(
        out,
        pagesize=landscape(A4),
        leftMargin=MARGIN_PT,
        rightMargin=MARGIN_PT,
        topMargin=MARGIN_PT,
        bottomMargin=MARGIN_PT + 6,
        title=document.title,
        author=" ".join(issuer_lines(document)),
        lang=document.lang,
    )
    footer = _footer(document.lang, pages)
    story = [*_heading(document, template.width), _table(document, template.width)]
    story += _signatures(document, template.width)
    template.build(story, onFirstPage=footer, onLaterPages=footer)
    return int(template.page)


def _footer(lang: str, pages: int | None) -> Any:
    word = "Page" if lang == "en" else "Trang"

    def draw(canvas: Any, template: Any) -> None:
        number = canvas.getPageNumber()
        text = f"{word} {number}/{pages}" if pages else f"{word} {number}"
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.drawCentredString(template.pagesize[0] / 2, MARGIN_PT / 2, text)
        canvas.restoreState()

    return draw


def _style(size: float, *, bold: bool = False, align: str = "left", indent: float = 0) -> Any:
    from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle

    alignment = {"left": TA_LEFT, "center": TA_CENTER, "right": TA_RIGHT}[align]
    return ParagraphStyle(
        f"report-{size}-{bold}-{align}-{indent}",
        fontName=FONT_BOLD if bold else FONT,
        fontSize=size,
        leading=size * 1.22,
        alignment=alignment,
        leftIndent=indent,
    )


def _paragraph(text: str, style: Any) -> Any:
    from reportlab.platypus import Paragraph

    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _heading(document: Document, width: float) -> list[Any]:
    """The issuer left and the national heading right, then the title, subtitle and unit."""
    from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

    bold = _style(10, bold=True, align="center")
    heading = national_heading(document.lang)
    left = Paragraph("<br/>".join(escape(line) for line in issuer_lines(document)), bold)
    right = Paragraph(f"{escape(heading[0])}<br/><u>{escape(heading[1])}</u>", bold)
    block = Table([[left, right]], colWidths=[width * 0.4, width * 0.6])
    block.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    flowables: list[Any] = [block, Spacer(1, 12)]
    flowables.append(_paragraph(document.title, _style(13, bold=True, align="center")))
    if document.subtitle:
        flowables += [Spacer(1, 2), _paragraph(document.subtitle, _style(10, align="center"))]
    flowables += [Spacer(1, 4), _paragraph(document.unit_line, _style(9, align="right"))]
    flowables.append(Spacer(1, 3))
    return flowables


def _table(document: Document, width: float) -> Any:
    """The figures' table: a banded header repeated on each page, the labels wrapping, the
    figures whole on one line, totals and groups bold."""
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    size, widths = _column_widths(document, width)
    banded = any(column.band for column in document.columns)
    header_rows = _header_rows(document, size, banded)
    commands: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), size),
        ("LEADING", (0, 0), (-1, -1), size * 1.2),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#808080")),
        ("BACKGROUND", (0, 0), (-1, len(header_rows) - 1), colors.HexColor("#E7E6E6")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (0, 0), (0, -1), "CENTER"),
        ("LEFTPADDING", (0, 0), (-1, -1), _padding(size)),
        ("RIGHTPADDING", (0, 0), (-1, -1), _padding(size)),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    commands += _header_spans(document, banded)
    for position, column in enumerate(document.columns, start=2):
        align = {"text": "LEFT", "flag": "CENTER"}.get(column.kind, "RIGHT")
        commands.append(("ALIGN", (position, len(header_rows)), (position, -1), align))
    data = list(header_rows)
    for index, row in enumerate(document.rows, start=len(header_rows)):
        strong = row.kind != "detail"
        indent = max(row.level - 1, 0) * size * 0.9
        label = _paragraph(row.label, _style(size, bold=strong, indent=indent))
        figures = [figure_text(document, c, row.values.get(c.key)) for c in document.columns]
        data.append([row.stt, label, *figures])
        if strong:
            commands.append(("FONTNAME", (0, index), (-1, index), FONT_BOLD))
    table = Table(data, colWidths=widths, repeatRows=len(header_rows), hAlign="CENTER")
    table.setStyle(TableStyle(commands))
    return table


def _header_rows(document: Document, size: float, banded: bool) -> list[list[Any]]:
    lang = document.lang
    style = _style(size, bold=True, align="center")
    headers = [STT_HEADERS[lang], LABEL_HEADERS[lang]]
    headers += [column.header(lang) for column in document.columns]
    last = [_paragraph(text, style) for text in headers]
    if not banded:
        return [last]
    first: list[Any] = [last[0], last[1]]
    below: list[Any] = ["", ""]
    previous = None
    for column, cell in zip(document.columns, last[2:], strict=True):
        band = column.band_header(lang)
        if band is None:
            first.append(cell)
            below.append("")
        else:
            first.append(_paragraph(band, style) if band != previous else "")
            below.append(cell)
        previous = band
    return [first, below]


def _header_spans(document: Document, banded: bool) -> list[tuple[Any, ...]]:
    """A band's cell over its columns; a column without a band, and STT and the label,
    merged down both header rows."""
    if not banded:
        return []
    spans: list[tuple[Any, ...]] = [("SPAN", (0, 0), (0, 1)), ("SPAN", (1, 0), (1, 1))]
    bands = [column.band for column in document.columns]
    start = 0
    while start < len(bands):
        end = start
        while end + 1 < len(bands) and bands[start] is not None and bands[end + 1] == bands[start]:
            end += 1
        if bands[start] is None:
            spans.append(("SPAN", (start + 2, 0), (start + 2, 1)))
        elif end > start:
            spans.append(("SPAN", (start + 2, 0), (end + 2, 0)))
        start = end + 1
    return spans


def _column_widths(document: Document, width: float) -> tuple[float, list[float]]:
    """The font size and the columns' widths: the largest size (at most 9 pt) at which every
    figure fits whole and the label keeps a usable width;
    what is left goes to the label, up to what its longest name needs, then to the figures."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    size = FONT_SIZE_MAX_PT
    lang = document.lang
    while True:
        pad = 2 * _padding(size) + 1
        stt = max(
            stringWidth(STT_HEADERS[lang], FONT_BOLD, size), stringWidth("XXIV", FONT_BOLD, size)
        )
        figures = []
        for column in document.columns:
            words = column.header(lang).split() or [""]
            need = max(stringWidth(word, FONT_BOLD, size) for word in words)
            for row in document.rows:
                text = figure_text(document, column, row.values.get(column.key))
                need = max(need, stringWidth(text, FONT_BOLD, size))
            figures.append(need + pad)
        left = width - stt - pad - sum(figures)
        label_min = LABEL_WIDTH_MIN_EM * size
        if left >= label_min or size <= FONT_SIZE_MIN_PT:
            break
        size -= 0.5 if size > 5 else 0.25
    labels = [stringWidth(LABEL_HEADERS[lang], FONT_BOLD, size)] + [
        stringWidth(row.label, FONT_BOLD, size) + max(row.level - 1, 0) * size * 0.9
        for row in document.rows
    ]
    label = min(max(left, label_min), max(labels) + pad)
    spare = max(width - stt - pad - label - sum(figures), 0.0)
    figures = [figure + spare / max(len(figures), 1) for figure in figures]
    if not figures:
        label += spare
    return size, [stt + pad, label, *figures]


def _signatures(document: Document, width: float) -> list[Any]:
    """The notes, then the place and date, the two signers and what each writes, kept on
    one page together."""
    from reportlab.platypus import KeepTogether, Spacer, Table, TableStyle

    flowables: list[Any] = [Spacer(1, 6)]
    flowables += [_paragraph(note, _style(8.5)) for note in document.notes]
    titles = SIGNATURES[document.lang]
    hints = SIGNATURE_HINTS[document.lang]
    bold = _style(10, bold=True, align="center")
    plain = _style(9, align="center")
    rows = [
        ["", _paragraph(signing_text(document), plain)],
        [_paragraph(titles[0], bold), _paragraph(titles[1], bold)],
        [_paragraph(hints[0], plain), _paragraph(hints[1], plain)],
        ["", ""],
    ]
    block = Table(rows, colWidths=[width * 0.4, width * 0.6], rowHeights=[None, None, None, 48])
    block.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return [*flowables, Spacer(1, 6), KeepTogether([block])]
