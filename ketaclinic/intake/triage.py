"""The staff side of consultation requests: who may triage, and the urgent items they raise."""

from __future__ import annotations

from django.urls import reverse

from ketaclinic.accounts.permissions import can
from ketaclinic.web.urgent import UrgentItem

from .models import ConsultationRequest


def urgent_items(user) -> list[UrgentItem]:
    """Open requests that mention suicidal thoughts, for staff who triage (one query)."""
    if not can(user, "consultation_request.triage"):
        return []
    return [
        UrgentItem(
            title=f"Consultation request {row.reference} mentions suicidal thoughts",
            url=reverse("intake:request_detail", args=[row.pk]),
            since=row.created_at,
        )
        for row in ConsultationRequest.objects.urgent_open().order_by("created_at")[:20]
    ]
