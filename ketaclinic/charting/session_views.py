"""The treatment-session page: opening a session, the page itself, its predicted-concentration
panel, and marking any of its entries entered in error.

Every view fetches the session through :func:`~.access.access_session` (another patient's
session is 404, a role without the permission 403) and audits what it shows; writes go to the
services, and answer as :mod:`.session_writes` describes.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.audit.trail import audit_invalid_form
from ketaclinic.patients.access import access_patient, refuse
from ketaclinic.scheduling.models import Appointment

from . import concentration, forms, in_error_service, session_service
from .access import access_session
from .session_page import session_context
from .session_writes import PANELS, audit_read, session_url, written


@login_required
@require_GET
def session_page(request, session_id: int):
    session = access_session(request, session_id, "session.view")
    audit_read(request, session, "session")
    return render(request, "charting/session.html", session_context(request, session))


@login_required
@require_GET
def concentration_panel(request, session_id: int):
    """The predicted-concentration curve, re-computed from the record on every load."""
    session = access_session(request, session_id, "session.view")
    shown = concentration.session_figure(session)
    return render(request, "charting/_concentration.html", {"session": session, "pk": shown})


@login_required
@require_POST
def open_session(request, appointment_id: int):
    """Open the session of a checked-in treatment visit (from the appointment page)."""
    appointment = (
        Appointment.objects.select_related("type", "patient").filter(pk=appointment_id).first()
    )
    if appointment is None:
        refuse(request, None, "session.chart", f"no appointment {appointment_id}")
        raise Http404("No such appointment.")
    access_patient(request, appointment.patient_id, "session.chart")
    try:
        session = session_service.session_open(request=request, appointment=appointment)
    except ValidationError as error:
        trail.record(
            action="session.open",
            request=request,
            patient_id=appointment.patient_id,
            outcome=Outcome.INVALID,
            detail={"errors": error.messages, "appointment": appointment.pk},
        )
        return render(
            request,
            "charting/open_refused.html",
            {"appointment": appointment, "errors": error.messages},
            status=422,
        )
    except session_service.ChairBusy as busy:  # audited as refused by the service
        return render(
            request,
            "charting/open_refused.html",
            {"appointment": appointment, "errors": [busy.message], "running": busy.other},
            status=409,
        )
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Location"] = session_url(session)
        return response
    return redirect(session_url(session))


@login_required
@require_POST
def entry_in_error(request, session_id: int, kind: str, entry_id: int):
    """Strike out an entry of any kind, with the reason; the body shows why when refused."""
    if kind not in in_error_service.ENTRY_KINDS:
        raise Http404
    permission = "integration_note.write" if kind == "integration_note" else "session.chart"
    session = access_session(request, session_id, permission)
    form = forms.ErrorForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError({"reason": "Say why the entry is wrong."})
        in_error_service.entry_mark_in_error(
            request=request,
            session=session,
            kind=kind,
            entry_id=entry_id,
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        if not form.is_valid():
            audit_invalid_form(request, form, "session.entry_in_error", session.patient_id)
        return body_refused(request, session, "; ".join(error.messages))
    label = in_error_service.ENTRY_KINDS[kind][1]
    return written(request, session, f"Marked entered in error: {label}.")


def body_refused(request, session, problem: str) -> HttpResponse:
    """422 with the whole session body (HTMX) or page, the problem at its top."""
    context = session_context(request, session, error_notice=problem)
    if request.htmx:
        response = render(request, PANELS["body"], context, status=422)
        response["HX-Retarget"] = "#session-body"
        response["HX-Reswap"] = "outerHTML"
        return response
    return render(request, "charting/session.html", context, status=422)
