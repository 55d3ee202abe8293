"""Makers for the session-workflow tests: a patient with a signed plan, a checked-in visit,
the session opened from it (through ``session_service.session_open``), and a checklist walked the way
a nurse and a prescriber would. Times are set back so whole sessions fit in the past."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.test import RequestFactory
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.charting import (
    checklist_facts,
    checklist_service,
    dose_service,
    session_service,
    vitals_service,
)
from ketaclinic.charting.checklist import DEFAULT_CHECKLIST
from ketaclinic.charting.models import (
    RemsEnrollment,
    SettingCertification,
    TreatmentSession,
)
from ketaclinic.conftest import PASSWORD
from ketaclinic.patients.models import Patient, WeightMeasurement
from ketaclinic.plans.tests.helpers import active_plan, signed_screening, with_depression_history
from ketaclinic.scheduling import seed
from ketaclinic.scheduling.models import (
    Appointment,
    AppointmentType,
    OpeningHours,
    Preparation,
    Status,
)

PLAN_OF_ROUTE = {
    "iv": {"protocol": "iv_racemic", "schedule_code": "iv_induction"},
    "im": {"protocol": "im_racemic", "schedule_code": "", "dose_mg_per_kg": Decimal("0.5")},
    "esketamine": {
        "protocol": "esketamine_trd",
        "schedule_code": "esketamine_trd",
        "dose_mg_per_kg": None,
        "dose_mg": 56,
        "horizon_weeks": 8,
    },
}
VISIT_OF_ROUTE = {"iv": "iv_infusion", "im": "im_injection", "esketamine": "esketamine"}
NORMAL = {"systolic_mmhg": 124, "diastolic_mmhg": 78, "heart_rate_bpm": 72, "spo2_pct": 98}
ATTESTED = ("identity_confirmed", "pregnancy_status", "phq9_today", "consent_on_file")


def request_by(user):
    request = RequestFactory().post("/")
    request.user = user
    return request


def ago(minutes: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(minutes=minutes)


def last_event(action: str) -> AuditEvent | None:
    return AuditEvent.objects.filter(action=action).order_by("-seq").first()


def plan_for(patient: Patient, prescriber, route: str = "iv", weight_kg: str = "70.0"):
    """A signed screening and an active plan for ``route`` (70 kg, weighed today)."""
    with_depression_history(patient, prescriber)
    WeightMeasurement.objects.create(
        patient=patient,
        weight_kg=Decimal(weight_kg),
        measured_on=timezone.localdate(),
        recorded_by=prescriber,
    )
    screening = signed_screening(patient, prescriber, route=route)
    return active_plan(patient, prescriber, screening, **PLAN_OF_ROUTE[route])


def checked_in_visit(patient: Patient, nurse, route: str = "iv", *, prepared: bool = True):
    seed.seed(AppointmentType, OpeningHours)
    kind = AppointmentType.objects.get(code=VISIT_OF_ROUTE[route])
    start = ago(200)
    visit = Appointment.objects.create(
        patient=patient,
        type=kind,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=kind.minutes),
        status=Status.CHECKED_IN,
        staff=nurse,
        created_by=nurse,
    )
    if prepared:
        Preparation.objects.create(appointment=visit, fasting_understood=True, ride_arranged=True)
    return visit


def open_session(
    patient: Patient,
    prescriber,
    nurse,
    route: str = "iv",
    *,
    opened_minutes_ago: float = 180,
    prepared: bool = True,
) -> TreatmentSession:
    """The session of a checked-in visit, opened ``opened_minutes_ago`` minutes ago."""
    plan_for(patient, prescriber, route)
    visit = checked_in_visit(patient, nurse, route, prepared=prepared)
    session = session_service.session_open(request=request_by(nurse), appointment=visit)
    TreatmentSession.objects.filter(pk=session.pk).update(opened_at=ago(opened_minutes_ago))
    session.refresh_from_db()
    return session


def rems_ready(patient: Patient, by) -> None:
    today = timezone.localdate()
    RemsEnrollment.objects.create(
        patient=patient, rems_patient_id="RP-1001", enrolled_on=today, recorded_by=by
    )
    SettingCertification.objects.create(
        certificate_id="SET-77", certified_on=today - dt.timedelta(days=30), recorded_by=by
    )


def take_vitals(session, nurse, minutes_ago: float, **values):
    return vitals_service.vitals_enter(
        request=request_by(nurse), session=session, values=NORMAL | values, at=ago(minutes_ago)
    )


def walk_checklist(session, nurse, prescriber, *, skip: tuple[str, ...] = (), vitals_ago=175):
    """Every item a clinician answers, answered; pre-treatment vitals taken (unless skipped)."""
    if "pre_treatment_vitals" not in skip:
        take_vitals(session, nurse, vitals_ago)
    facts = checklist_facts.checklist_facts(session)
    for code in ATTESTED:
        item = DEFAULT_CHECKLIST.item(code)
        if code in skip or not _asked(item, facts):
            continue
        checklist_service.checklist_record(
            request=request_by(nurse), session=session, code=code, outcome="passed"
        )
    if "dose_double_checked" not in skip:
        checklist_service.checklist_record(
            request=request_by(nurse),
            session=session,
            code="dose_double_checked",
            outcome="passed",
            note=f"{session.planned_dose_mg} mg",
            second_checker=prescriber,
            second_checker_password=PASSWORD,
        )
    return session


def _asked(item, facts) -> bool:
    from ketaclinic.charting.checklist import applies

    return applies(item, facts)


def started(session, nurse, prescriber, *, minutes_ago: float = 170, **start):
    """Walk the checklist and start dosing ``minutes_ago`` minutes ago."""
    walk_checklist(session, nurse, prescriber)
    if session.route == "esketamine":
        start.setdefault("prescriber_on_site", prescriber)
    return dose_service.session_start(
        request=request_by(nurse), session=session, at=ago(minutes_ago), **start
    )
