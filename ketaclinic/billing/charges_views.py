"""Charges pages: superbills (print view and PDF), confirming a session's codes, the export."""

from __future__ import annotations

import csv
import datetime as dt
import io

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ketaclinic.accounts.access import require_permission
from ketaclinic.accounts.permissions import can
from ketaclinic.audit import trail
from ketaclinic.charting.access import access_session
from ketaclinic.patients.access import access_patient
from ketaclinic.patients.models import Diagnosis

from . import charges, superbill
from .models import ChargeLine, ChargeStatus

MAX_RANGE_DAYS = 366
EXPORT_COLUMNS = [
    "line_id",
    "reverses_line_id",
    "status",
    "service_date",
    "patient_mrn",
    "patient_name",
    "date_of_birth",
    "place_of_service",
    "code",
    "modifiers",
    "units",
    "unit_price",
    "amount",
    "diagnoses",
    "drug_mg",
    "ndc",
    "lot_number",
    "rendering_provider",
    "confirmed_by",
    "confirmed_at",
]


class BadRange(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def date_range(request) -> tuple[dt.date, dt.date]:
    """``from`` and ``to`` (ISO dates, inclusive, at most a year apart)."""
    days = []
    for name in ("from", "to"):
        raw = request.GET.get(name, "")
        try:
            days.append(dt.date.fromisoformat(raw))
        except ValueError:
            raise BadRange(name, f"'{name}' must be a date such as 2026-01-31") from None
    first, last = days
    if last < first:
        raise BadRange("to", "'to' is before 'from'")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise BadRange("to", f"at most {MAX_RANGE_DAYS} days at once")
    return first, last


def bad_range(error: BadRange) -> HttpResponse:
    return HttpResponse(error.message, status=422, content_type="text/plain; charset=utf-8")


def _pdf_response(bill: superbill.Superbill, name: str, request) -> HttpResponse:
    try:
        content = superbill.render_pdf(bill)
    except superbill.PdfUnavailable as error:
        return HttpResponse(str(error), status=503, content_type="text/plain; charset=utf-8")
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _audit(request, action: str, bill: superbill.Superbill, target=None) -> None:
    trail.record(
        action=action,
        request=request,
        patient=bill.patient,
        target=target,
        detail={"from": str(bill.first), "to": str(bill.last), "codes": bill.codes},
    )


def _page(
    request, bill, *, session=None, pdf_url: str, problem: str = "", status: int = 200
) -> HttpResponse:
    proposed = []
    diagnoses = []
    if session is not None:
        proposed = list(
            ChargeLine.objects.filter(session=session, status=ChargeStatus.PROPOSED).order_by("id")
        )
        diagnoses = list(Diagnosis.objects.valid().filter(patient=bill.patient))
    return render(
        request,
        "billing/superbill.html",
        {
            "bill": bill,
            "patient": bill.patient,
            "session": session,
            "pdf_url": pdf_url,
            "proposed": proposed,
            "proposed_diagnoses": proposed[0].diagnoses if proposed else [],
            "diagnoses": diagnoses,
            "may_confirm": session is not None and can(request.user, "charges.confirm"),
            "problem": problem,
        },
        status=status,
    )


@login_required
def session_superbill(request, session_id: int):
    session = access_session(request, session_id, "charges.view")
    bill = superbill.for_session(session)
    _audit(request, "superbill.view", bill, session)
    return _page(
        request,
        bill,
        session=session,
        pdf_url=reverse("charges:session_superbill_pdf", args=[session.pk]),
    )


@login_required
def session_superbill_pdf(request, session_id: int):
    session = access_session(request, session_id, "charges.view")
    bill = superbill.for_session(session)
    _audit(request, "superbill.pdf", bill, session)
    name = f"superbill-{session.patient.mrn}-{bill.first:%Y%m%d}.pdf"
    return _pdf_response(bill, name, request)


@login_required
def patient_superbill(request, patient_id: int):
    patient = access_patient(request, patient_id, "charges.view")
    try:
        first, last = date_range(request)
    except BadRange as error:
        return bad_range(error)
    bill = superbill.for_range(patient, first, last)
    _audit(request, "superbill.view", bill)
    pdf_url = reverse("charges:patient_superbill_pdf", args=[patient.pk])
    return _page(request, bill, pdf_url=f"{pdf_url}?from={first}&to={last}")


@login_required
def patient_superbill_pdf(request, patient_id: int):
    patient = access_patient(request, patient_id, "charges.view")
    try:
        first, last = date_range(request)
    except BadRange as error:
        return bad_range(error)
    bill = superbill.for_range(patient, first, last)
    _audit(request, "superbill.pdf", bill)
    return _pdf_response(bill, f"superbill-{patient.mrn}-{first:%Y%m%d}-{last:%Y%m%d}.pdf", request)


@login_required
@require_POST
def session_confirm(request, session_id: int):
    session = access_session(request, session_id, "charges.confirm")
    here = reverse("charges:session_superbill", args=[session.pk])
    try:
        charges.charges_confirm(
            request=request,
            session=session,
            by=request.user,
            diagnoses=request.POST.getlist("diagnoses"),
        )
    except (ValidationError, charges.ChargeConflict) as problem:
        conflict = isinstance(problem, charges.ChargeConflict)
        return _page(
            request,
            superbill.for_session(session),
            session=session,
            pdf_url=reverse("charges:session_superbill_pdf", args=[session.pk]),
            problem=problem.message if conflict else "; ".join(problem.messages),
            status=409 if conflict else 422,
        )
    return redirect(here)


@login_required
def charges_export(request):
    """Every charge line with a date of service in the range, as CSV for the billing service."""
    require_permission(request, "charges.export")
    try:
        first, last = date_range(request)
    except BadRange as error:
        return bad_range(error)
    charges.charges_ensure_between(first, last)
    lines = (
        ChargeLine.objects.filter(service_date__gte=first, service_date__lte=last)
        .select_related("patient", "rendering_provider", "confirmed_by")
        .order_by("service_date", "id")
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for line in lines:
        count += 1
        writer.writerow(
            [
                line.pk,
                line.reverses_id or "",
                line.status,
                line.service_date.isoformat(),
                line.patient.mrn,
                _cell(line.patient.full_name),
                line.patient.date_of_birth.isoformat(),
                line.place_of_service,
                line.code,
                line.modifiers,
                line.units,
                line.unit_price,
                line.amount,
                " ".join(line.diagnoses),
                line.drug_mg if line.drug_mg is not None else "",
                line.ndc,
                _cell(line.lot_number),
                _cell(line.rendering_provider.display_name) if line.rendering_provider_id else "",
                _cell(line.confirmed_by.display_name) if line.confirmed_by_id else "",
                line.confirmed_at.isoformat() if line.confirmed_at else "",
            ]
        )
    trail.record(
        action="charges.export",
        request=request,
        detail={"from": str(first), "to": str(last), "lines": count},
    )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="charges-{first}-{last}.csv"'
    response["Cache-Control"] = "no-store"
    return response


def _cell(text: str) -> str:
    """A spreadsheet never runs a cell as a formula (CSV injection)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
