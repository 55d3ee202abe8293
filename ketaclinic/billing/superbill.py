"""The superbill: what a self-pay patient sends their insurer (REFERENCE.md 8.1 field set).

Practice name, address, NPI and tax id (settings); rendering provider and NPI; patient name,
date of birth and address; date and place of service; ICD-10-CM diagnoses with a pointer
(A-D) per line; codes with modifiers, units and charges; amount paid; a signature line.
Only confirmed lines are billed; lines still awaiting a clinician's confirmation are counted
so nobody mistakes a partial superbill for a whole one.
"""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from ketaclinic.patients import vocabulary
from ketaclinic.patients.models import Patient
from ketaclinic.web.pdf import PdfUnavailable as PdfUnavailable  # the views catch it from here
from ketaclinic.web.pdf import Printout

from . import charges
from .coding import CODE_BOOK
from .models import ChargeLine, ChargeStatus, Payment, ProviderProfile


@dataclass(frozen=True)
class Practice:
    name: str
    address: str
    npi: str
    tax_id: str


@dataclass(frozen=True)
class Provider:
    name: str
    npi: str


@dataclass(frozen=True)
class DiagnosisRow:
    pointer: str
    code: str
    display: str


@dataclass(frozen=True)
class Row:
    service_date: dt.date
    place_of_service: str
    code: str
    meaning: str
    modifiers: str
    units: int
    charge: Decimal
    pointers: str
    drug: str


@dataclass(frozen=True)
class Superbill:
    practice: Practice
    providers: tuple[Provider, ...]
    patient: Patient
    first: dt.date
    last: dt.date
    diagnoses: tuple[DiagnosisRow, ...]
    rows: tuple[Row, ...]
    total: Decimal
    paid: Decimal
    balance: charges.Balance
    unconfirmed: int

    @property
    def patient_address(self) -> str:
        p = self.patient
        place = " ".join(part for part in (p.region, p.postal_code) if part)
        return ", ".join(part for part in (p.address, p.city, place) if part)

    @property
    def places_of_service(self) -> str:
        codes = sorted({row.place_of_service for row in self.rows})
        return ", ".join(
            f"{code} ({CODE_BOOK.places_of_service[code].meaning})"
            if code in CODE_BOOK.places_of_service
            else code
            for code in codes
        )

    @property
    def codes(self) -> list[str]:
        return [row.code for row in self.rows]


def practice() -> Practice:
    return Practice(
        name=settings.CLINIC_NAME,
        address=getattr(settings, "PRACTICE_ADDRESS", ""),
        npi=getattr(settings, "PRACTICE_NPI", ""),
        tax_id=getattr(settings, "PRACTICE_TAX_ID", ""),
    )


def _display(code: str) -> str:
    entry = vocabulary.icd10_codes().get(code)
    return entry.display if entry else ""


def build(patient: Patient, lines: list[ChargeLine], first: dt.date, last: dt.date) -> Superbill:
    billed = [line for line in lines if line.status == ChargeStatus.CONFIRMED]
    codes: list[str] = []
    for line in billed:
        for code in line.diagnoses:
            if code not in codes:
                codes.append(code)
    letters = dict(zip(codes, string.ascii_uppercase, strict=False))
    rows = tuple(
        Row(
            service_date=line.service_date,
            place_of_service=line.place_of_service,
            code=line.code,
            meaning=CODE_BOOK[line.code].meaning if line.code in CODE_BOOK.codes else "",
            modifiers=line.modifiers,
            units=line.units,
            charge=line.amount,
            pointers="".join(letters[code] for code in line.diagnoses),
            drug=_drug(line),
        )
        for line in billed
    )
    users = {line.rendering_provider for line in billed if line.rendering_provider_id}
    npis = dict(ProviderProfile.objects.filter(user__in=users).values_list("user_id", "npi"))
    providers = tuple(
        sorted(
            (Provider(user.display_name, npis.get(user.pk, "")) for user in users),
            key=lambda p: p.name,
        )
    )
    paid = sum(
        Payment.objects.filter(
            patient=patient, received_on__gte=first, received_on__lte=last
        ).values_list("amount", flat=True),
        Decimal("0.00"),
    )
    return Superbill(
        practice=practice(),
        providers=providers,
        patient=patient,
        first=first,
        last=last,
        diagnoses=tuple(DiagnosisRow(letters[c], c, _display(c)) for c in codes),
        rows=rows,
        total=sum((row.charge for row in rows), Decimal("0.00")),
        paid=paid,
        balance=charges.balance_of(patient),
        unconfirmed=sum(1 for line in lines if line.status == ChargeStatus.PROPOSED),
    )


def _drug(line: ChargeLine) -> str:
    if line.drug_mg is None:
        return ""
    parts = [f"{line.drug_mg.normalize():f} mg"]
    if line.ndc:
        parts.append(f"NDC {line.ndc}")
    if line.product:
        parts.append(line.product)
    if line.lot_number:
        parts.append(f"lot {line.lot_number}")
    return ", ".join(parts)


def for_session(session) -> Superbill:
    charges.charges_ensure(session)
    lines = list(
        ChargeLine.objects.filter(session=session)
        .select_related("rendering_provider")
        .order_by("id")
    )
    day = lines[0].service_date if lines else session.discharged_at.date()
    return build(session.patient, lines, day, day)


def for_range(patient: Patient, first: dt.date, last: dt.date) -> Superbill:
    charges.charges_ensure_for_patient(patient)
    lines = list(charges.lines_of(patient).filter(service_date__gte=first, service_date__lte=last))
    return build(patient, lines, first, last)


# ---------------------------------------------------------------- PDF

INSTEAD = "Use Print on the superbill page instead."
SERVICE_COLUMNS = (
    ("Date", 22),
    ("POS", 10),
    ("Code", 16),
    ("Mod", 12),
    ("Units", 13),
    ("Dx", 12),
    ("Charge", 25),
)


def money(value: Decimal) -> str:
    return f"{value:,.2f}"


def render_pdf(bill: Superbill) -> bytes:
    """The superbill as a Letter PDF (uncompressed text: small and searchable)."""
    doc = Printout(instead=INSTEAD)
    _practice_and_patient(doc, bill)
    doc.gap(2)
    doc.line("Diagnoses (ICD-10-CM)", size=11, style="B")
    for row in bill.diagnoses:
        doc.line(f"{row.pointer}. {row.code} {row.display}")
    if not bill.diagnoses:
        doc.line("None confirmed yet.")
    doc.gap(2)
    doc.line("Services", size=11, style="B")
    doc.table(SERVICE_COLUMNS, "Description", _service_rows(bill))
    doc.gap(2)
    _totals_and_signature(doc, bill)
    return doc.output()


def _practice_and_patient(doc: Printout, bill: Superbill) -> None:
    p = bill.practice
    doc.line("Superbill", size=16, style="B", leading=8)
    doc.line(p.name, size=11, style="B")
    doc.line(f"Address: {p.address or 'not set'}")
    doc.line(f"Practice NPI: {p.npi or 'not set'}    Tax ID: {p.tax_id or 'not set'}")
    for provider in bill.providers:
        doc.line(f"Rendering provider: {provider.name}    NPI: {provider.npi or 'not set'}")
    doc.gap(2)
    patient = bill.patient
    doc.line(
        f"Patient: {patient.full_name}    Date of birth: {patient.date_of_birth:%Y-%m-%d}",
        style="B",
    )
    doc.line(f"Address: {bill.patient_address or 'not on file'}")
    span = (
        f"{bill.first:%Y-%m-%d}"
        if bill.first == bill.last
        else f"{bill.first:%Y-%m-%d} to {bill.last:%Y-%m-%d}"
    )
    doc.line(f"Date(s) of service: {span}    Place of service: {bill.places_of_service or '-'}")


def _service_rows(bill: Superbill):
    for row in bill.rows:
        values = (
            f"{row.service_date:%Y-%m-%d}",
            row.place_of_service,
            row.code,
            row.modifiers,
            str(row.units),
            row.pointers,
            money(row.charge),
        )
        yield values, row.meaning + (f" ({row.drug})" if row.drug else "")


def _totals_and_signature(doc: Printout, bill: Superbill) -> None:
    doc.line(f"Total charges: {money(bill.total)}", style="B")
    doc.line(f"Amount paid: {money(bill.paid)}", style="B")
    doc.line(f"Patient balance (all dates): {money(bill.balance.due)}")
    if bill.unconfirmed:
        doc.line(
            f"{bill.unconfirmed} line(s) await a clinician's confirmation and are not billed.",
            size=9,
            style="I",
        )
    doc.gap(10)
    doc.line("Signature: ______________________________    Date: ______________")
    doc.line(
        "Codes: AMA CPT; HCPCS Level II; CMS POS code set. Prices: the clinic's fee schedule.",
        size=7,
    )
