from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from ketaclinic.accounts.access import require_permission

from . import trail
from .models import AuditEvent, Outcome

PAGE_SIZE = 100


@login_required
def audit_list(request):
    """Browse and filter the trail (clinic admins). Looking at it is itself audited."""
    require_permission(request, "audit.view")
    events = AuditEvent.objects.select_related(None)
    filters = {
        "actor": request.GET.get("actor", "").strip(),
        "patient": request.GET.get("patient", "").strip(),
        "action": request.GET.get("action", "").strip(),
        "outcome": request.GET.get("outcome", "").strip(),
        "since": request.GET.get("since", "").strip(),
        "until": request.GET.get("until", "").strip(),
    }
    if filters["actor"]:
        events = events.filter(actor_username__iexact=filters["actor"])
    if filters["patient"].isdigit():
        events = events.filter(patient_id=int(filters["patient"]))
    if filters["action"]:
        events = events.filter(action__startswith=filters["action"])
    if filters["outcome"] in Outcome.values:
        events = events.filter(outcome=filters["outcome"])
    for key, lookup in (("since", "at__date__gte"), ("until", "at__date__lte")):
        try:
            events = events.filter(**{lookup: dt.date.fromisoformat(filters[key])})
        except ValueError:
            filters[key] = ""
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    trail.record(action="audit.view", request=request, detail={"filters": filters})
    return render(
        request,
        "audit/list.html",
        {"page": page, "filters": filters, "outcomes": Outcome.choices},
    )
