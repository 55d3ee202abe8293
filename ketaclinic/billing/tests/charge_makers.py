"""Discharged sessions as charting records them, for the charges tests (times known ahead)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ketaclinic.charting.models import (
    BolusDose,
    InfusionEvent,
    SessionStatus,
    TreatmentSession,
)
from ketaclinic.charting.tests.rems_makers import at, esketamine_session
from ketaclinic.inventory.tests.helpers import plan_for

__all__ = ["DAY", "at", "esketamine_session", "iv_session"]

DAY = dt.date(2026, 3, 2)


def iv_session(
    patient,
    prescriber,
    nurse,
    *,
    day: dt.date = DAY,
    minutes: float = 40,
    rate_mg_per_min: str = "0.875",
    pause: tuple[float, float] | None = None,
    plan=None,
    discharged: bool = True,
) -> TreatmentSession:
    """An IV session whose pump ran ``minutes`` (a pause from..to adds to the wall time)."""
    plan = plan or plan_for(patient, prescriber, "iv")
    start = at(day, 9, 0)
    paused = (pause[1] - pause[0]) if pause else 0
    end = start + dt.timedelta(minutes=minutes + paused)
    session = TreatmentSession.objects.create(
        patient=patient,
        plan=plan,
        session_number=plan.treatment_sessions.count() + 1,
        route="iv",
        protocol_code=plan.protocol.code,
        drug="racemic ketamine",
        planned_dose_mg=Decimal(35),
        planned_rate_mg_per_min=Decimal(rate_mg_per_min),
        planned_minutes=40,
        product="Ketamine 50 mg/mL",
        lot_number="KET-42",
        status=SessionStatus.DISCHARGED if discharged else SessionStatus.OBSERVATION,
        nurse=nurse,
        opened_at=start - dt.timedelta(minutes=15),
        dose_started_at=start,
        dose_ended_at=end,
        discharged_at=end + dt.timedelta(minutes=60) if discharged else None,
    )
    rate = Decimal(rate_mg_per_min)
    events = [(start, "start", rate)]
    if pause:
        events += [
            (start + dt.timedelta(minutes=pause[0]), "pause", None),
            (start + dt.timedelta(minutes=pause[1]), "resume", None),
        ]
    events.append((end, "stop", None))
    for moment, kind, value in events:
        InfusionEvent.objects.create(
            session=session, at=moment, kind=kind, rate_mg_per_min=value, recorded_by=nurse
        )
    return session


def im_session(patient, prescriber, nurse, *, day: dt.date = DAY, dose_mg: str = "36"):
    plan = plan_for(patient, prescriber, "iv")
    start = at(day, 9, 0)
    session = TreatmentSession.objects.create(
        patient=patient,
        plan=plan,
        route="im",
        protocol_code="im_racemic",
        drug="racemic ketamine",
        planned_dose_mg=Decimal(dose_mg),
        status=SessionStatus.DISCHARGED,
        nurse=nurse,
        opened_at=start,
        dose_started_at=start,
        dose_ended_at=start,
        discharged_at=start + dt.timedelta(minutes=90),
    )
    BolusDose.objects.create(session=session, at=start, dose_mg=Decimal(dose_mg), recorded_by=nurse)
    return session
