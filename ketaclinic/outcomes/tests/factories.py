"""Plain ``make_*`` helpers for outcome tests: courses, sessions given, answers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from ketaclinic.charting.models import AdverseEvent, SafetyAlert, TreatmentSession
from ketaclinic.outcomes import scoring, services
from ketaclinic.outcomes.models import Channel, Response, ResponseStatus
from ketaclinic.patients.models import CareRole, CareTeamMember
from ketaclinic.plans.models import PlannedSession, TreatmentPlan
from ketaclinic.protocols.models import Protocol
from ketaclinic.protocols.seeding import seed_protocols
from ketaclinic.screening.models import Screening

IV_DAYS = (0, 2, 4, 7, 9, 11)
PROTOCOL_OF = {
    "iv": "iv_racemic",
    "im": "im_racemic",
    "esketamine": "esketamine_trd",
    "sublingual": "sublingual_racemic",
    "oral": "oral_racemic",
}


def local(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZoneInfo(settings.TIME_ZONE))


def add_prescriber(patient, prescriber, recorded_by=None) -> CareTeamMember:
    return CareTeamMember.objects.create(
        patient=patient,
        role=CareRole.PRESCRIBER,
        user=prescriber,
        recorded_by=recorded_by or prescriber,
    )


def make_plan(
    patient,
    prescriber,
    *,
    start: dt.date,
    indication: str = "trd",
    route: str = "iv",
    days: tuple[int, ...] = IV_DAYS,
    phases: tuple[str, ...] | None = None,
    status: str = "completed",
) -> TreatmentPlan:
    """A signed plan whose course has sessions on ``start + days``."""
    seed_protocols()
    phases = phases or ("induction",) * len(days)
    signed = local(start - dt.timedelta(days=2), 15)
    screening = Screening.objects.create(
        patient=patient,
        route=route,
        indication=indication,
        status="signed",
        answered_by=prescriber,
        answered_at=signed,
        age_years=45,
        adequate_trials=2,
        engine_decision="eligible",
        signed_by=prescriber,
        signed_at=signed,
        clinician_decision="eligible",
        valid_until=start + dt.timedelta(days=90),
        created_by=prescriber,
    )
    plan = TreatmentPlan.objects.create(
        patient=patient,
        screening=screening,
        protocol=Protocol.objects.get(code=PROTOCOL_OF[route]),
        indication=indication,
        route=route,
        status=status,
        dose_mg=Decimal("35.0"),
        schedule_code="iv_induction" if route == "iv" else "",
        start_date=start,
        working_weekdays=[0, 1, 2, 3, 4],
        induction_sessions=phases.count("induction") or None,
        created_by=prescriber,
        signed_by=prescriber,
        signed_at=signed,
        ended_at=None if status == "active" else local(start + dt.timedelta(days=days[-1])),
    )
    PlannedSession.objects.bulk_create(
        PlannedSession(plan=plan, number=n, date=start + dt.timedelta(days=d), phase=phases[n - 1])
        for n, d in enumerate(days, start=1)
    )
    return plan


def give_sessions(
    plan, nurse, days: list[dt.date] | None = None, *, hour: int = 10, dose_mg: str = "35.0"
) -> list[TreatmentSession]:
    """Discharged sessions for ``days`` (default: every planned day)."""
    if days is None:
        days = [s.date for s in plan.planned_sessions.order_by("number")]
    sessions = []
    for number, day in enumerate(days, start=1):
        started = local(day, hour)
        sessions.append(
            TreatmentSession.objects.create(
                patient=plan.patient,
                plan=plan,
                session_number=number,
                route=plan.route,
                protocol_code=plan.protocol.code,
                drug="racemic ketamine",
                planned_dose_mg=Decimal(dose_mg),
                status="discharged",
                nurse=nurse,
                opened_at=started - dt.timedelta(minutes=20),
                dose_started_at=started,
                dose_ended_at=started + dt.timedelta(minutes=40),
                discharged_at=started + dt.timedelta(hours=2),
            )
        )
    return sessions


def answers_totalling(code: str, total: int, *, item9: int = 0) -> list[int]:
    """An answer list for ``code`` adding up to ``total`` (PHQ-9 item 9 as given)."""
    instrument = services.definition(code).instrument
    values = [item.min_value for item in instrument.items]
    if code == "phq9":
        values[8] = item9
    remaining = total - sum(values)
    for index, item in enumerate(instrument.items):
        if code == "phq9" and index == 8:
            continue
        add = min(item.max_value - values[index], remaining)
        values[index] += add
        remaining -= add
    if code == "phq9" and remaining:
        # Above 24 the total needs item 9 (and raises the suicidal-ideation flag).
        values[8] += min(3 - values[8], remaining)
        remaining = total - sum(values)
    assert remaining == 0, f"{code} cannot total {total}"
    return values


def make_response(
    patient,
    code: str,
    *,
    total: int | None = None,
    answers: list[int | None] | None = None,
    at: dt.datetime,
    channel: str = Channel.PAPER,
    by=None,
    plan=None,
) -> Response:
    """A response stored directly (no service): for building cohorts quickly."""
    definition = services.definition(code)
    answers = answers if answers is not None else answers_totalling(code, total)
    result = scoring.score(definition.instrument, answers)
    complete = isinstance(result, scoring.ScoreResult)
    return Response.objects.create(
        patient=patient,
        instrument=definition,
        instrument_version=definition.version,
        answers=answers,
        status=ResponseStatus.COMPLETED if complete else ResponseStatus.IN_PROGRESS,
        total=result.total if complete else None,
        band=(result.band or "") if complete else "",
        flags=list(result.flags) if complete else [],
        subscores=dict(result.subscores) if complete else {},
        channel=channel,
        entered_by=by,
        plan=plan,
        started_at=at,
        updated_at=at,
        submitted_at=at if complete else None,
    )


def scores(patient, code: str, by, *pairs: tuple[dt.date, int], plan=None) -> list[Response]:
    """Completed responses: ``(day, total)`` pairs, each answered at 08:30 that day."""
    return [
        make_response(patient, code, total=total, at=local(day, 8, 30), by=by, plan=plan)
        for day, total in pairs
    ]


def adverse_event(session, nurse, *, serious: bool = False) -> AdverseEvent:
    return AdverseEvent.objects.create(
        session=session, recorded_by=nurse, description="Nausea", serious=serious
    )


def vital_alert(session) -> SafetyAlert:
    return SafetyAlert.objects.create(
        session=session, code="bp_high", level="warning", action="Recheck", basis="policy"
    )


def today() -> dt.date:
    return timezone.localdate()
