"""A hand-built esketamine session for the REMS form tests, every time known in advance.

Treatment day ``day``, clinic time: opened 09:00, BP 128/82 at 09:10, devices at 09:15 and
09:20 (56 mg), BP 150/95 at 09:55 (40 min after the first device), BP 130/84 at 11:19,
discharged 11:20 (125 min after the first device) with vital signs back to baseline.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from ketaclinic.charting.models import (
    Discharge,
    DissociationRating,
    NasalDevice,
    SessionStatus,
    SettingCertification,
    SideEffect,
    TreatmentSession,
    VitalReading,
)
from ketaclinic.inventory.tests.helpers import plan_for, request_by
from ketaclinic.patients.models import Medication

__all__ = ["at", "certify", "esketamine_session", "medicate", "request_by"]


def at(day: dt.date, hour: int, minute: int) -> dt.datetime:
    """A clinic-local wall-clock time on ``day``, timezone-aware."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def certify(by, day: dt.date, certificate_id: str = "C-1") -> SettingCertification:
    return SettingCertification.objects.create(
        certificate_id=certificate_id, certified_on=day - dt.timedelta(days=100), recorded_by=by
    )


def medicate(patient, by, name: str, drug_class: str, **extra) -> Medication:
    return Medication.objects.create(
        patient=patient, name=name, drug_class=drug_class, dose="1 mg", recorded_by=by, **extra
    )


def esketamine_session(
    patient,
    prescriber,
    nurse,
    *,
    day: dt.date,
    plan=None,
    discharged: bool = True,
    devices: int = 2,
    lot_number: str = "SPR123",
) -> TreatmentSession:
    plan = plan or plan_for(patient, prescriber, "esketamine")
    first = at(day, 9, 15)
    session = TreatmentSession.objects.create(
        patient=patient,
        plan=plan,
        session_number=plan.treatment_sessions.count() + 1,
        route="esketamine",
        protocol_code=plan.protocol.code,
        drug="esketamine",
        planned_dose_mg=plan.dose_mg,
        product="Spravato 28 mg nasal device",
        lot_number=lot_number,
        status=SessionStatus.DISCHARGED if discharged else SessionStatus.OBSERVATION,
        nurse=nurse,
        prescriber_on_site=prescriber,
        opened_at=at(day, 9, 0),
        dose_started_at=first,
        dose_ended_at=first + dt.timedelta(minutes=5 * (devices - 1)),
        discharged_at=at(day, 11, 20) if discharged else None,
    )
    for n in range(devices):
        NasalDevice.objects.create(
            session=session, at=first + dt.timedelta(minutes=5 * n), recorded_by=nurse
        )
    for moment, systolic, diastolic in (
        (at(day, 9, 10), 128, 82),
        (at(day, 9, 55), 150, 95),
        (at(day, 11, 19), 130, 84),
    ):
        VitalReading.objects.create(
            session=session,
            at=moment,
            source="manual",
            systolic_mmhg=systolic,
            diastolic_mmhg=diastolic,
            heart_rate_bpm=80,
            spo2_pct=98,
            recorded_by=nurse,
        )
    DissociationRating.objects.create(
        session=session, score=4, at=at(day, 9, 45), recorded_by=nurse
    )
    SideEffect.objects.create(
        session=session, code="nausea", severity="mild", at=at(day, 9, 50), recorded_by=nurse
    )
    if discharged:
        Discharge.objects.create(
            session=session,
            criteria={"vitals_at_baseline": True, "alert_and_oriented": True},
            instructions="No driving until tomorrow after a restful sleep.",
            signed_by=prescriber,
            signed_at=at(day, 11, 20),
            observation_minutes=125,
        )
    return session


def device_mg(count: int) -> Decimal:
    return Decimal(28 * count)
