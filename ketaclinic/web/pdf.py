"""The clinic's printouts as PDF: one Letter page layout shared by every form (fpdf2).

Superbills, prior-authorization packets and the REMS monitoring form are plain documents:
a title, lines of text, grey section bars, a ruled table, a closing note. ``Printout`` draws
those on a Letter page with 15 mm margins; text stays uncompressed, so a PDF is small,
searchable and testable. fpdf2 is imported only when a PDF is asked for: without it the
caller gets ``PdfUnavailable`` with what to do instead. Imports no app.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

PDF_PACKAGE = "fpdf2>=2.8,<3"
FONT = "Helvetica"
SECTION_FILL = (230, 235, 241)

# The PDF's core fonts are Latin-1: write the few typographic characters our texts use.
PLAIN = str.maketrans(
    {"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "≥": ">=", "≤": "<="}
)


class PdfUnavailable(RuntimeError):
    """The optional PDF package is not installed."""


def load_fpdf(instead: str):
    """fpdf2's FPDF class; ``instead`` tells the reader what to do when it is missing."""
    try:
        from fpdf import FPDF  # optional dependency, loaded on the first PDF only
    except ImportError:
        raise PdfUnavailable(
            f"PDF download needs the Python package {PDF_PACKAGE!r}, which is not installed "
            f"on this server. {instead}"
        ) from None
    return FPDF


def latin1(text: Any) -> str:
    return str(text).translate(PLAIN).encode("latin-1", "replace").decode("latin-1")


class Printout:
    """One Letter document in millimetres, written top to bottom."""

    def __init__(self, *, instead: str):
        self.pdf = load_fpdf(instead)(format="Letter", unit="mm")
        self.pdf.set_compression(False)  # text stays searchable (and testable)
        self.pdf.set_margins(15, 15, 15)
        self.pdf.set_auto_page_break(auto=True, margin=15)
        self.pdf.add_page()
        self.width = self.pdf.epw

    def line(self, text: str, *, size: float = 10, style: str = "", leading: float = 5.5) -> None:
        """A paragraph across the page, wrapped."""
        self.pdf.set_font(FONT, style=style, size=size)
        self.pdf.multi_cell(
            self.width, leading, latin1(text), align="L", new_x="LMARGIN", new_y="NEXT"
        )

    def gap(self, mm: float) -> None:
        self.pdf.ln(mm)

    def section(self, label: str) -> None:
        """A grey bar naming a section; a new page first when the bar would sit alone."""
        if self.pdf.will_page_break(20):
            self.pdf.add_page()
        self.pdf.set_fill_color(*SECTION_FILL)
        self.pdf.set_font(FONT, style="B", size=11)
        self.pdf.cell(self.width, 7, latin1(label), fill=True, new_x="LMARGIN", new_y="NEXT")

    def table(
        self,
        columns: Sequence[tuple[str, float]],
        last: str,
        rows: Iterable[tuple[Sequence[str], str]],
        *,
        size: float = 9,
    ) -> None:
        """A ruled header, then one row per entry: fixed-width ``columns`` (label, mm) and a
        ``last`` column taking the rest of the width, wrapped (a description)."""
        rest = self.width - sum(w for _, w in columns)
        self.pdf.set_font(FONT, style="B", size=size)
        for label, w in columns:
            self.pdf.cell(w, 6, label, border="B")
        self.pdf.cell(rest, 6, last, border="B", new_x="LMARGIN", new_y="NEXT")
        for values, description in rows:
            self.pdf.set_font(FONT, size=size)
            for (_, w), value in zip(columns, values, strict=True):
                self.pdf.cell(w, 5, latin1(value))
            self.pdf.multi_cell(rest, 5, latin1(description), new_x="LMARGIN", new_y="NEXT")

    def field(self, label: str, value: str, note: str = "", *, label_share: float = 0.45) -> None:
        """A form field: its label on the left, the value in bold on the right with an
        optional small note (where the value came from) under it; never split over pages."""
        label_width = self.width * label_share
        value_width = self.width - label_width
        needed = max(
            self._height(label, label_width, 5, 9),
            self._height(value, value_width, 5, 10, "B") + self._height(note, value_width, 3.5, 7),
        )
        if self.pdf.will_page_break(needed + 1):
            self.pdf.add_page()
        top = self.pdf.get_y()
        self.pdf.set_font(FONT, size=9)
        self.pdf.multi_cell(label_width, 5, latin1(label), align="L")
        self.pdf.set_xy(self.pdf.l_margin + label_width, top)
        self.pdf.set_font(FONT, style="B", size=10)
        self.pdf.multi_cell(value_width, 5, latin1(value), align="L")
        if note:
            self.pdf.set_x(self.pdf.l_margin + label_width)
            self.pdf.set_font(FONT, style="I", size=7)
            self.pdf.multi_cell(value_width, 3.5, latin1(note), align="L")
        self.pdf.set_xy(self.pdf.l_margin, top + needed + 1)

    def _height(self, text: str, w: float, h: float, size: float, style: str = "") -> float:
        """How tall ``text`` would be, measured without drawing it."""
        if not text:
            return 0
        self.pdf.set_font(FONT, style=style, size=size)
        return self.pdf.multi_cell(w, h, latin1(text), dry_run=True, output="HEIGHT")

    def output(self) -> bytes:
        return bytes(self.pdf.output())
