"""Open safety tasks as urgent items for the staff banner (``web.urgent``), one query."""

from __future__ import annotations

from django.urls import reverse

from ketaclinic.accounts.permissions import can
from ketaclinic.web.urgent import UrgentItem

from .models import SafetyTask

BANNER_LIMIT = 20


def urgent_items(user) -> list[UrgentItem]:
    """Open suicidal-ideation follow-ups, for clinicians who may resolve them.

    The banner names no patient (it is on every page, over every shoulder); the link opens
    the task, whose page is audited.
    """
    if not can(user, "safety_task.resolve"):
        return []
    tasks = SafetyTask.objects.open().order_by("created_at", "id").only("id", "created_at")
    return [
        UrgentItem(
            title="Safety follow-up due: a questionnaire answer flagged thoughts of self-harm",
            url=reverse("outcomes:safety_task", args=[task.pk]),
            since=task.created_at,
        )
        for task in tasks[:BANNER_LIMIT]
    ]
