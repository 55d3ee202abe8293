"""Makers for the controlled-substance log tests: a plan, sessions on it, lots, requests."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from django.test import RequestFactory
from django.utils import timezone

from ketaclinic.charting.models import (
    BolusDose,
    InfusionEvent,
    NasalDevice,
    SessionStatus,
    TreatmentSession,
)
from ketaclinic.inventory import services
from ketaclinic.inventory.models import Drug, LedgerEntry, Lot
from ketaclinic.patients.models import Patient, WeightMeasurement
from ketaclinic.plans.models import TreatmentPlan
from ketaclinic.plans.tests.helpers import active_plan, signed_screening, with_depression_history

_numbers = itertools.count(1)


def request_by(user):
    request = RequestFactory().post("/")
    request.user = user
    return request


def plan_for(patient: Patient, prescriber, route: str = "iv") -> TreatmentPlan:
    """An active plan made through the plan services (IV racemic or esketamine TRD)."""
    with_depression_history(patient, prescriber)
    WeightMeasurement.objects.create(
        patient=patient,
        weight_kg=Decimal("72.0"),
        measured_on=timezone.localdate(),
        recorded_by=prescriber,
    )
    screening = signed_screening(
        patient,
        prescriber,
        route=route,
        reasoning="Reviewed with the patient; benefits outweigh risks.",
    )
    if route == "esketamine":
        overrides = {
            "protocol": "esketamine_trd",
            "schedule_code": "esketamine_trd",
            "dose_mg_per_kg": None,
            "dose_mg": 56,
            "horizon_weeks": 8,
            "interval_weeks": 4,
        }
    else:
        overrides = {"protocol": "iv_racemic", "schedule_code": "iv_induction"}
    return active_plan(patient, prescriber, screening, **overrides)


def session_on(
    plan: TreatmentPlan,
    nurse,
    *,
    status: str = SessionStatus.DOSING,
    opened_at: dt.datetime | None = None,
    prescriber=None,
) -> TreatmentSession:
    """A session of ``plan``'s patient, built as check-in would build it; once dosing, the
    dose started 5 minutes after opening."""
    opened_at = opened_at or timezone.now() - dt.timedelta(hours=3)
    dosed = status in (SessionStatus.DOSING, SessionStatus.OBSERVATION, SessionStatus.DISCHARGED)
    return TreatmentSession.objects.create(
        patient=plan.patient,
        plan=plan,
        session_number=plan.treatment_sessions.count() + 1,
        route=plan.route,
        protocol_code=plan.protocol.code,
        drug="esketamine" if plan.route == "esketamine" else "racemic ketamine",
        planned_dose_mg=plan.dose_mg,
        planned_rate_mg_per_min=plan.rate_mg_per_min,
        planned_minutes=plan.infusion_minutes,
        status=status,
        nurse=nurse,
        prescriber_on_site=prescriber,
        opened_at=opened_at,
        dose_started_at=opened_at + dt.timedelta(minutes=5) if dosed else None,
    )


def chart_infusion(session: TreatmentSession, *, rate: str, minutes: int, by=None) -> None:
    """An infusion at ``rate`` mg/min that ran ``minutes`` from the session's opening."""
    start = session.opened_at + dt.timedelta(minutes=5)
    InfusionEvent.objects.create(
        session=session, kind="start", rate_mg_per_min=Decimal(rate), at=start, recorded_by=by
    )
    InfusionEvent.objects.create(
        session=session, kind="stop", at=start + dt.timedelta(minutes=minutes), recorded_by=by
    )


def chart_bolus(session: TreatmentSession, dose_mg: str, by=None) -> BolusDose:
    return BolusDose.objects.create(
        session=session,
        dose_mg=Decimal(dose_mg),
        at=session.opened_at + dt.timedelta(minutes=10),
        recorded_by=by,
    )


def chart_devices(session: TreatmentSession, count: int, *, first_minute: int = 10, by=None):
    return [
        NasalDevice.objects.create(
            session=session,
            at=session.opened_at + dt.timedelta(minutes=first_minute + 5 * n),
            recorded_by=by,
        )
        for n in range(count)
    ]


def receive(
    user,
    *,
    vials: int = 4,
    mg_per_vial: str = "500",
    ml_per_vial: str = "10",
    lot_number: str | None = None,
    drug: str = Drug.RACEMIC_KETAMINE,
    product: str = "Ketamine HCl injection 50 mg/mL, 10 mL vial",
    expires_in_days: int = 365,
) -> LedgerEntry:
    return services.lot_receive(
        request=request_by(user),
        drug=drug,
        product=product,
        supplier="Henry Schein",
        lot_number=lot_number or f"KET{next(_numbers):05d}",
        mg_per_vial=Decimal(mg_per_vial),
        ml_per_vial=Decimal(ml_per_vial),
        vials=vials,
        expires_on=timezone.localdate() + dt.timedelta(days=expires_in_days),
    )


def on_hand(lot: Lot) -> Decimal:
    return services.lot_state(lot).lot(lot.lot_number).on_hand_mg
