"""The live session's predicted concentration, from what was actually given (issue #7).

The administration record (every rate change, pause, stop, bolus and device) becomes the
engine's regimen; the plan's intended dose is drawn beside it so a nurse sees what the
titration did. A model prediction from population data, never a measurement.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from ketaclinic.plans import concentration as plan_concentration

from . import administration_service, session_service
from .models import ACTIVE, TreatmentSession

BAND_PATIENTS = 500
AFTER_NOW_MIN = 60


def given_regimen(session: TreatmentSession) -> list[dict]:
    """The doses the record shows, as the engine takes them (minutes from dose start)."""
    total = administration_service.session_delivered(session)
    doses = [
        {
            "route": "iv",
            "dose_mg": float(segment.rate_mg_per_min * (segment.end_minute - segment.start_minute)),
            "start_min": float(segment.start_minute),
            "duration_min": float(segment.end_minute - segment.start_minute),
        }
        for segment in total.segments
        if segment.end_minute > segment.start_minute
    ]
    record = administration_service.administration_record(
        session, (), session.boluses.all(), session.devices.all()
    )
    bolus_route = "im" if session.route == "im" else "iv"
    doses += [
        {"route": bolus_route, "dose_mg": float(b.dose_mg), "start_min": float(b.minute)}
        for b in record.boluses
    ]
    doses += [
        {"route": "esketamine", "dose_mg": float(d.device_mg), "start_min": float(d.minute)}
        for d in record.devices
    ]
    return [dose for dose in doses if dose["dose_mg"] > 0]


def session_figure(session: TreatmentSession) -> dict:
    """The figure for the session page, or why there is none yet."""
    if session.dose_started_at is None:
        return {"unavailable": "The prediction starts when dosing starts."}
    weight = session.plan.weight_kg or (
        w.weight_kg if (w := session.patient.current_weight()) else None
    )
    if weight is None:
        return {"unavailable": "Record the patient's weight to see predicted concentrations."}
    doses = given_regimen(session)
    active = session.status in ACTIVE
    now_min = float(session_service.dose_minute(session, timezone.now())) if active else None
    horizon = max(
        plan_concentration.horizon_min(session.route),
        int((now_min or 0) + AFTER_NOW_MIN),
    )
    given = plan_concentration.population_curve(
        "Predicted from what was given", doses, float(weight), horizon, seed=session.pk
    )
    planned = plan_concentration.population_curve(
        f"As planned: {session.planned_dose_mg} mg",
        plan_concentration.regimen(
            session.route, Decimal(session.planned_dose_mg), session.planned_minutes
        ),
        float(weight),
        horizon,
        seed=session.pk,
    )
    return {
        "figure": plan_concentration.figure(
            [given, planned], now_min=now_min, title=f"Predicted concentration at {weight} kg"
        ),
        "disclaimer": plan_concentration.DISCLAIMER.format(model=plan_concentration.model_name()),
        "doses": len(doses),
    }
