"""The prior-authorization packet as a PDF, on the clinic's printout layout (``web.pdf``)."""

from __future__ import annotations

import datetime as dt

from ketaclinic.web.pdf import Printout

from .packet import Packet

INSTEAD = "Use Print on the form page instead (it has a print layout)."


def render(packet: Packet, clinic_name: str, printed_on: dt.date) -> bytes:
    doc = Printout(instead=INSTEAD)
    record = packet.record
    doc.line("Spravato prior-authorization packet", size=15, style="B", leading=8)
    doc.line(f"{clinic_name} - prepared {printed_on:%Y-%m-%d}", size=8)
    doc.line(
        f"{record.patient_name} (MRN {record.mrn}) - born {record.date_of_birth:%Y-%m-%d}",
        style="B",
    )
    if packet.complete:
        doc.line("COMPLETE: every item is on the record.", style="B")
    else:
        doc.line("INCOMPLETE - missing: " + ", ".join(i.label for i in packet.missing), style="B")
    doc.gap(2)
    for item in packet.items:
        doc.section(item.label)
        for entry in item.lines:
            doc.line(entry.value, size=10)
            doc.line(f"    {entry.source}", size=8, leading=4.5)
        if item.missing:
            doc.line(f"MISSING: {item.missing}", size=10, style="B")
        doc.gap(1.5)
    return doc.output()
