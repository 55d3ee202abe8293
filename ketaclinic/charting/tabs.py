"""The chart's "Sessions" tab, registered into ``patients.chart`` from ChartingConfig.ready()."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.paginator import Paginator
from django.db.models import Count, F, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from ketaclinic.accounts.permissions import can
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling.models import Status as AppointmentStatus

from . import administration, administration_service
from .models import (
    AdverseEvent,
    BolusDose,
    InfusionEvent,
    NasalDevice,
    RecordStatus,
    SafetyAlert,
    SideEffect,
    TreatmentSession,
)


@dataclass(frozen=True)
class SessionRow:
    session: TreatmentSession
    opened: str  # local date and time; formatted here, as the template's date filter is slow
    delivered_mg: Decimal | None
    alerts: int
    open_alerts: int
    critical_alerts: int
    side_effects: int
    adverse_events: int


# A course of six infusions and the first maintenance sessions fit on the first page; older
# pages load on demand, so the tab costs the same for a first course and for years of care.
PAGE_SIZE = 10


# What a row shows and what its dose is computed from: a page reads nothing more.
ROW_FIELDS = (
    "id",
    "plan_id",
    "route",
    "session_number",
    "status",
    "planned_dose_mg",
    "opened_at",
    "dose_started_at",
    "dose_ended_at",
)


def administration_rows(relation: str, model, *values: str) -> Prefetch:
    """A session's ``relation`` as a plain list, with just what the dose total reads."""
    rows = model.objects.only("id", "session_id", "at", "status", *values)
    return Prefetch(relation, rows, to_attr=f"{relation}_record")


def count_of(model, **conditions) -> Coalesce:
    """How many ``model`` rows of each session meet ``conditions``, counted by the database."""
    rows = model.objects.filter(session=OuterRef("pk"), **conditions).order_by()
    return Coalesce(Subquery(rows.values("session").annotate(n=Count("*")).values("n")), 0)


def session_rows(sessions) -> list[SessionRow]:
    """Rows for ``sessions`` (one page, newest first), the dose computed from each record.

    Counts come from the database and the administration record is prefetched into plain
    lists, so a row costs no query and little work: a full page renders about as fast as
    a short one.
    """
    sessions = (
        sessions.only(*ROW_FIELDS)
        .prefetch_related(
            administration_rows("infusion_events", InfusionEvent, "kind", "rate_mg_per_min"),
            administration_rows("boluses", BolusDose, "dose_mg"),
            administration_rows("devices", NasalDevice, "device_mg"),
        )
        .annotate(
            protocol_name=F("plan__protocol__name"),  # not the protocol: its rules are heavy
            alert_count=count_of(SafetyAlert),
            open_alert_count=count_of(SafetyAlert, acknowledged_at__isnull=True),
            critical_alert_count=count_of(SafetyAlert, level="critical"),
            side_effect_count=count_of(SideEffect, status=RecordStatus.FINAL),
            adverse_event_count=count_of(AdverseEvent, status=RecordStatus.FINAL),
        )
    )
    return [
        SessionRow(
            session=session,
            opened=timezone.localtime(session.opened_at).strftime("%Y-%m-%d %H:%M"),
            delivered_mg=delivered_mg(session),
            alerts=session.alert_count,
            open_alerts=session.open_alert_count,
            critical_alerts=session.critical_alert_count,
            side_effects=session.side_effect_count,
            adverse_events=session.adverse_event_count,
        )
        for session in sessions
    ]


def delivered_mg(session: TreatmentSession) -> Decimal | None:
    if session.dose_started_at is None:
        return None
    try:
        return administration_service.delivered(
            session,
            session.infusion_events_record,
            session.boluses_record,
            session.devices_record,
        ).total_mg
    except administration.AdministrationError:
        return None


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
