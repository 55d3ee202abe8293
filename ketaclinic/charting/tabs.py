"""The chart's "Sessions" tab (registered in patients/views.py TABS and TAB_LOADERS).

Kept apart from charting/views.py so the chart can import it without a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.paginator import Paginator
from django.utils import timezone

from ketaclinic.accounts.permissions import can
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling.models import Status as AppointmentStatus

from . import administration, workflow
from .models import RecordStatus, TreatmentSession


@dataclass(frozen=True)
class SessionRow:
    session: TreatmentSession
    delivered_mg: Decimal | None
    alerts: int
    open_alerts: int
    critical_alerts: int
    side_effects: int
    adverse_events: int


PAGE_SIZE = 25


def session_rows(sessions) -> list[SessionRow]:
    """Rows for ``sessions`` (one page, newest first), the dose computed from each record."""
    sessions = sessions.select_related("plan__protocol", "nurse", "appointment").prefetch_related(
        "infusion_events", "boluses", "devices", "alerts", "side_effects", "adverse_events"
    )
    rows = []
    for session in sessions:
        try:
            total = workflow.delivered(
                session,
                session.infusion_events.all(),
                session.boluses.all(),
                session.devices.all(),
            ).total_mg
        except administration.AdministrationError:
            total = None
        alerts = list(session.alerts.all())
        rows.append(
            SessionRow(
                session=session,
                delivered_mg=total if session.dose_started_at else None,
                alerts=len(alerts),
                open_alerts=sum(1 for a in alerts if a.is_open),
                critical_alerts=sum(1 for a in alerts if a.level == "critical"),
                side_effects=sum(
                    1 for e in session.side_effects.all() if e.status == RecordStatus.FINAL
                ),
                adverse_events=sum(
                    1 for e in session.adverse_events.all() if e.status == RecordStatus.FINAL
                ),
            )
        )
    return rows


def sessions_tab(request, patient: Patient) -> dict:
    today = timezone.localdate()
    ready = []
    if can(request.user, "session.chart"):
        ready = [
            appointment
            for appointment in patient.appointments.on_day(today)
            .filter(status__in=[AppointmentStatus.CHECKED_IN, AppointmentStatus.IN_SESSION])
            .exclude(type__protocol_code="")
            .filter(treatment_session__isnull=True)
            .select_related("type", "chair__room")
        ]
    # A long-treated patient has hundreds of sessions: one page at a time keeps the tab flat.
    page = Paginator(
        TreatmentSession.objects.filter(patient=patient).order_by("-opened_at", "-id"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return {
        "session_rows": session_rows(page.object_list),
        "session_page": page,
        "ready_visits": ready,
    }
