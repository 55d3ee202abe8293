"""The audit trail page: clinic admins browse and filter who saw or changed what.

It lives here, not in ``audit``, because the page checks a permission and the audit app
comes before accounts in the clinic's order. People name a patient by MRN; patients comes
later still, so it registers how an MRN finds a patient (:func:`register_patient_finder`)
from its ``AppConfig.ready()``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from ketaclinic.audit import trail
from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.web.inputs import INT64_MAX

from .access import require_permission

PAGE_SIZE = 100
FILTERS = ("actor", "patient", "action", "outcome", "since", "until")

PatientFinder = Callable[[str], "int | None"]
_patient_finders: list[PatientFinder] = []


def register_patient_finder(finder: PatientFinder) -> None:
    """Add a way to turn what a person typed (an MRN) into a patient id, or None."""
    if finder not in _patient_finders:
        _patient_finders.append(finder)


def patient_id_named(text: str) -> int | None:
    """The patient ``text`` names: an internal id as it is, else the first finder's answer."""
    if text.isdigit():
        return int(text) if int(text) <= INT64_MAX else None
    for finder in _patient_finders:
        found = finder(text)
        if found is not None:
            return found
    return None


def filtered_events(filters: dict[str, str]):
    """The events the filters select; a date that does not parse is dropped from ``filters``."""
    events = AuditEvent.objects.select_related(None)
    if filters["actor"]:
        events = events.filter(actor_username__iexact=filters["actor"])
    if filters["patient"]:
        patient_id = patient_id_named(filters["patient"])
        # An MRN no patient has selects nothing, rather than everything.
        events = events.filter(patient_id=patient_id) if patient_id else events.none()
    if filters["action"]:
        events = events.filter(action__startswith=filters["action"])
    if filters["outcome"] in Outcome.values:
        events = events.filter(outcome=filters["outcome"])
    for key, lookup in (("since", "at__date__gte"), ("until", "at__date__lte")):
        try:
            events = events.filter(**{lookup: dt.date.fromisoformat(filters[key])})
        except ValueError:
            filters[key] = ""
    return events


@login_required
def audit_list(request):
    """Browse and filter the trail (clinic admins). Looking at it is itself audited."""
    require_permission(request, "audit.view")
    filters = {key: request.GET.get(key, "").strip() for key in FILTERS}
    events = filtered_events(filters)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    trail.record(action="audit.view", request=request, detail={"filters": filters})
    return render(
        request,
        "audit/list.html",
        {"page": page, "filters": filters, "outcomes": Outcome.choices},
    )
