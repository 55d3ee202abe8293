"""Makers for the treatment-floor tests (ingestion, board, simulator): chairs, running
sessions, monitors and their requests. Plans are made through the plan services, so a session
stands on what the app itself makes; the session row is built directly, as check-in would."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

from django.test import Client
from django.utils import timezone

from ketaclinic.charting import devices
from ketaclinic.charting.models import InfusionEvent, SessionStatus, TreatmentSession
from ketaclinic.conftest import make_patient
from ketaclinic.patients.models import Patient, WeightMeasurement
from ketaclinic.plans.tests.helpers import active_plan, signed_screening, with_depression_history
from ketaclinic.protocols.seeding import seed_protocols
from ketaclinic.scheduling.models import Chair, Room

PROTOCOL_OF_ROUTE = {"iv": "iv_racemic", "esketamine": "esketamine_trd"}
SCHEDULE_OF_ROUTE = {"iv": "iv_induction", "esketamine": "esketamine_trd"}


def make_chairs(count: int, room: str = "Infusion suite") -> list[Chair]:
    suite, _ = Room.objects.get_or_create(name=room, defaults={"kind": "infusion_suite"})
    return [Chair.objects.create(room=suite, name=f"Chair {n:02d}") for n in range(1, count + 1)]


def plan_for(patient: Patient, prescriber, route: str = "iv"):
    seed_protocols()  # a live-server test's flush empties the catalog the migration seeded
    with_depression_history(patient, prescriber)
    WeightMeasurement.objects.create(
        patient=patient,
        weight_kg=Decimal("72.0"),
        measured_on=timezone.localdate(),
        recorded_by=prescriber,
    )
    screening = signed_screening(patient, prescriber, route=route)
    overrides = {"protocol": PROTOCOL_OF_ROUTE[route], "schedule_code": SCHEDULE_OF_ROUTE[route]}
    if route == "esketamine":
        overrides |= {
            "dose_mg_per_kg": None,
            "dose_mg": 56,
            "horizon_weeks": 8,
            "interval_weeks": 4,
        }
    return active_plan(patient, prescriber, screening, **overrides)


def make_session(
    *,
    patient: Patient,
    prescriber,
    nurse,
    chair: Chair | None,
    route: str = "iv",
    status: str = SessionStatus.DOSING,
    opened_minutes_ago: float = 60,
    dose_started_minutes_ago: float | None = 45,
    rate_mg_per_min: str | None = "0.9",
) -> TreatmentSession:
    """A session in ``chair``; while dosing an IV one, its infusion started at that rate."""
    plan = plan_for(patient, prescriber, route)
    now = timezone.now()
    dosing = status in (SessionStatus.DOSING, SessionStatus.OBSERVATION)
    started = (
        now - dt.timedelta(minutes=dose_started_minutes_ago)
        if dosing and dose_started_minutes_ago is not None
        else None
    )
    session = TreatmentSession.objects.create(
        patient=patient,
        plan=plan,
        chair=chair,
        session_number=1,
        route=route,
        protocol_code=plan.protocol.code,
        drug="esketamine" if route == "esketamine" else "racemic ketamine",
        planned_dose_mg=plan.dose_mg,
        planned_rate_mg_per_min=plan.rate_mg_per_min,
        planned_minutes=plan.infusion_minutes,
        status=status,
        nurse=nurse,
        prescriber_on_site=prescriber,
        opened_at=now - dt.timedelta(minutes=opened_minutes_ago),
        dose_started_at=started,
    )
    if started is not None and route == "iv" and rate_mg_per_min:
        InfusionEvent.objects.create(
            session=session,
            kind="start",
            rate_mg_per_min=Decimal(rate_mg_per_min),
            at=started,
            recorded_by=nurse,
        )
    return session


def floor_of(
    count: int, prescriber, nurse, *, room: str = "Infusion suite", **session_options
) -> list[TreatmentSession]:
    """``count`` patients, each in a running session in a chair of their own."""
    chairs = make_chairs(count, room=room)
    return [
        make_session(
            patient=make_patient("Floor", f"Patient{n:02d}"),
            prescriber=prescriber,
            nurse=nurse,
            chair=chair,
            **session_options,
        )
        for n, chair in enumerate(chairs, start=1)
    ]


def monitor_in(chair: Chair, name: str = "Bedside monitor") -> tuple:
    return devices.monitor_issue(chair=chair, name=name)


def reading(minutes_ago: float = 0, **values) -> dict:
    """One reading as a monitor sends it; defaults are an unremarkable set of vitals."""
    taken = timezone.now() - dt.timedelta(minutes=minutes_ago)
    normal = {
        "systolic_mmhg": 128,
        "diastolic_mmhg": 80,
        "heart_rate_bpm": 76,
        "spo2_pct": 98,
        "resp_rate_per_min": 14,
    }
    return {"taken_at": taken.isoformat()} | normal | values


def post_vitals(
    session_id: int, token: str, body, *, key: str | None = None, client: Client | None = None
):
    return (client or Client()).post(
        f"/api/v1/sessions/{session_id}/vitals",
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key or uuid.uuid4().hex},
    )
