"""The prior-authorization packet as a PDF (fpdf2, the REMS form's renderer pattern)."""

from __future__ import annotations

import datetime as dt

from ketaclinic.charting.rems_views import latin1, load_fpdf

from .packet import Packet


def render(packet: Packet, clinic_name: str, printed_on: dt.date) -> bytes:
    fpdf = load_fpdf()
    pdf = fpdf(format="Letter", unit="mm")
    pdf.set_compression(False)  # text stays searchable (and testable)
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    width = pdf.epw

    def line(text: str, *, size: float = 10, style: str = "", leading: float = 5.5) -> None:
        pdf.set_font("Helvetica", style=style, size=size)
        pdf.multi_cell(width, leading, latin1(text), align="L", new_x="LMARGIN", new_y="NEXT")

    record = packet.record
    line("Spravato prior-authorization packet", size=15, style="B", leading=8)
    line(f"{clinic_name} - prepared {printed_on:%Y-%m-%d}", size=8)
    line(
        f"{record.patient_name} (MRN {record.mrn}) - born {record.date_of_birth:%Y-%m-%d}",
        style="B",
    )
    if packet.complete:
        line("COMPLETE: every item is on the record.", style="B")
    else:
        line("INCOMPLETE - missing: " + ", ".join(i.label for i in packet.missing), style="B")
    pdf.ln(2)
    for item in packet.items:
        if pdf.will_page_break(20):
            pdf.add_page()
        pdf.set_fill_color(230, 235, 241)
        pdf.set_font("Helvetica", style="B", size=11)
        pdf.cell(width, 7, latin1(item.label), fill=True, new_x="LMARGIN", new_y="NEXT")
        for entry in item.lines:
            line(entry.value, size=10)
            line(f"    {entry.source}", size=8, leading=4.5)
        if item.missing:
            line(f"MISSING: {item.missing}", size=10, style="B")
        pdf.ln(1.5)
    return bytes(pdf.output())
