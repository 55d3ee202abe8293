"""How a write on the session page answers, shared by the views of every phase.

With HTMX a successful write answers with the refreshed session body, a refused one with 422
(429 for a throttled second-clinician password) and only the panel whose form needs fixing;
without JavaScript the same forms post and redirect back, or answer with the whole page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from ketaclinic.audit import trail
from ketaclinic.audit.trail import audit_invalid_form
from ketaclinic.web.forms import add_service_errors

from .access import access_session
from .models import TreatmentSession
from .session_page import session_context

PANELS = {
    "checklist": "charting/_checklist.html",
    "administration": "charting/_administration.html",
    "vitals": "charting/_vitals.html",
    "vitals-entry": "charting/_vitals_entry.html",
    "alerts": "charting/_alerts.html",
    "observations": "charting/_observations.html",
    "discharge": "charting/_discharge.html",
    "notes": "charting/_notes.html",
    "body": "charting/_session_body.html",
}


def session_url(session: TreatmentSession) -> str:
    return reverse("charting:session", kwargs={"session_id": session.pk})


def audit_read(request, session: TreatmentSession, section: str) -> None:
    trail.record(
        action="session.view",
        request=request,
        patient_id=session.patient_id,
        target=session,
        detail={"section": section},
    )


def answer(
    request,
    session_id: int,
    *,
    permission: str,
    form: Callable[[TreatmentSession], Any],
    act: Callable[[TreatmentSession, Any], Any],
    panel: str,
    form_name: str,
    action: str,
    done: Callable[[Any], str],
    keyed: Any = None,
):
    """Validate ``form``, run ``act`` through the services, answer with page or panel.

    ``keyed`` puts the bound form into a per-row mapping (checklist items, alerts) rather
    than the panel's single form.
    """
    session = access_session(request, session_id, permission)
    bound = form(session)
    status = 422
    if bound.is_valid():
        try:
            result = act(session, bound)
        except ValidationError as error:
            # A throttled second-clinician password answers 429, other refusals 422.
            status = getattr(error, "status_code", 422)
            add_service_errors(bound, error)
        else:
            return written(request, session, done(result))
    else:
        audit_invalid_form(request, bound, action, session.patient_id)
    overrides = {form_name: {keyed: bound}} if keyed is not None else {form_name: bound}
    return refused(request, session, panel, overrides, status=status)


def written(request, session: TreatmentSession, notice: str) -> HttpResponse:
    """The refreshed session body (HTMX) or a redirect to the page, with ``notice``."""
    session = access_session(request, session.pk, "session.view")
    if request.htmx:
        context = session_context(request, session, notice=notice)
        return render(request, PANELS["body"], context)
    messages.success(request, notice)
    return redirect(session_url(session))


def refused(
    request, session: TreatmentSession, panel: str, overrides: dict, status: int = 422
) -> HttpResponse:
    """The panel to fix (HTMX) or the whole page, with the bound forms in ``overrides``."""
    context = session_context(request, session, **overrides)
    if request.htmx:
        response = render(request, PANELS[panel], context, status=status)
        response["HX-Retarget"] = f"#panel-{panel}"
        response["HX-Reswap"] = "outerHTML"
        return response
    return render(request, "charting/session.html", context, status=status)


def oob(html: str) -> str:
    """Mark a rendered panel for an out-of-band swap (its root element carries the id)."""
    return html.replace(' class="panel', ' hx-swap-oob="true" class="panel', 1)
