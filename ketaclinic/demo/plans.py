"""Demo screenings and treatment plans in every state (issue #3), on top of the demo clinic.

Called at the end of ``clinic.load()`` inside its transaction. Patients DEMO0001-DEMO0010 are
left unscreened for people (and browser tests) to screen themselves; the scenarios below pick,
in MRN order from DEMO0011, the first patients whose record fits them. Loading twice changes
nothing: a ``demo.load_plans`` audit row marks the scenarios as loaded.

Scenarios: a draft screening; signed eligible; signed eligible with reasoning over findings
that need review; ineligible (signed not eligible); stale (a benzodiazepine recorded after
signing); a draft esketamine plan; an active IV plan, started nine days ago, with a dose
amendment; a completed IV plan from four months ago.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.audit import trail
from ketaclinic.audit.models import AuditEvent
from ketaclinic.patients.models import Medication, Patient, WeightMeasurement
from ketaclinic.plans import schedule
from ketaclinic.plans import services as plan_services
from ketaclinic.plans.models import (
    PlanDoseChange,
    PlannedSession,
    PlanStatus,
    TreatmentPlan,
)
from ketaclinic.protocols import dosing
from ketaclinic.protocols.models import Protocol
from ketaclinic.protocols.seeding import seed_protocols
from ketaclinic.screening import services as screening_services
from ketaclinic.screening import validity
from ketaclinic.screening.models import Screening, ScreeningStatus

MARKER = "demo.load_plans"
REASONED = "eligible_with_reasoning"
REASONING = "Findings reviewed with the patient; extra monitoring after dosing."
FIRST_CANDIDATE = 11
WEEKDAYS = [0, 1, 2, 3, 4]


class DemoRequest:
    """What the services read from a request: who acts. No path or address."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.META: dict = {}

    def get_full_path(self) -> str:
        return ""


def load(users: dict[str, User]) -> dict[str, str]:
    """Create the scenarios once; the MRN used for each (empty on a rerun)."""
    seed_protocols()
    if AuditEvent.objects.filter(action=MARKER).exists():
        return {}
    candidates = list(
        Patient.objects.filter(mrn__startswith="DEMO")
        .exclude(mrn__lt=f"DEMO{FIRST_CANDIDATE:04d}")
        .order_by("mrn")
    )
    if not candidates:
        return {}
    snapshots = {p.pk: screening_services.record_snapshot(p) for p in candidates}
    created: dict[str, str] = {}
    for name, fits, build in SCENARIOS:
        patient = next(
            (p for p in candidates if p.mrn not in created.values() and fits(p, snapshots[p.pk])),
            None,
        )
        if patient is None:
            continue
        build(patient, users)
        created[name] = patient.mrn
    if created:
        trail.record(action=MARKER, actor_username="demo", detail={"scenarios": created})
    return created


# --- Who fits which scenario -----------------------------------------------------------------


def indication_of(patient: Patient) -> str | None:
    return next(
        (d.indication for d in patient.diagnoses.filter(status="active") if d.indication), None
    )


def _trd_adult(patient: Patient, snap, *, derived: set[str] | None = None) -> bool:
    return (
        indication_of(patient) == "trd"
        and snap.facts.adequate_trials >= 2
        and 18 <= snap.facts.age_years < 65
        and (set(snap.derived) == (derived or set()))
    )


def fits_clean_trd(patient, snap) -> bool:
    return _trd_adult(patient, snap)


def fits_cns_trd(patient, snap) -> bool:
    return _trd_adult(patient, snap, derived={"cns_depressants"})


def fits_iv_any(patient, snap) -> bool:
    """Any indication (racemic IV is not restricted by indication), nothing to review."""
    indication = indication_of(patient)
    return (
        indication is not None
        and 18 <= snap.facts.age_years < 65
        and not snap.derived
        and (indication != "trd" or snap.facts.adequate_trials >= 2)
    )


def fits_iv_course(patient, snap) -> bool:
    """An adult under 65 with an indication whom the screening engine does not rule out."""
    indication = indication_of(patient)
    if indication is None or not 18 <= snap.facts.age_years < 65:
        return False
    answers = _answers("iv", indication, bp=(126, 80))
    return screening_services.evaluate_for(snap, answers).decision.value != "ineligible"


def fits_anyone(patient, snap) -> bool:
    return indication_of(patient) is not None


def fits_esketamine_trd(patient, snap) -> bool:
    return _trd_adult(patient, snap) and snap.facts.age_years < 65


# --- Building blocks ---------------------------------------------------------------------------


def _answers(route: str, indication: str, findings=(), bp=(None, None), oral=None) -> dict:
    return {
        "route": route,
        "indication": indication,
        "reported_findings": list(findings),
        "systolic_mmhg": bp[0],
        "diastolic_mmhg": bp[1],
        "bp_measured_at": None,
        "oral_antidepressant": oral,
    }


def _screen(patient, by, route="iv", findings=(), bp=(None, None)) -> Screening:
    return screening_services.screening_create(
        request=DemoRequest(by),
        patient=patient,
        answers=_answers(route, indication_of(patient) or "trd", findings, bp),
    )


def _sign(screening: Screening, by: User, decision: str, reasoning: str = "") -> Screening:
    return screening_services.screening_sign(
        request=DemoRequest(by), screening=screening, decision=decision, reasoning=reasoning
    )


def _historic_screening(patient: Patient, users: dict[str, User], days_ago: int) -> Screening:
    """A screening answered by the nurse and signed by the prescriber ``days_ago`` days ago."""
    at = timezone.now() - dt.timedelta(days=days_ago)
    snapshot = screening_services.record_snapshot(patient)
    answers = _answers("iv", indication_of(patient) or "trd", bp=(126, 80))
    answers["bp_measured_at"] = at
    result = screening_services.evaluate_for(snapshot, answers)
    return Screening.objects.create(
        patient=patient,
        **answers,
        answered_by=users["nurse"],
        answered_at=at,
        age_years=snapshot.facts.age_years,
        adequate_trials=snapshot.facts.adequate_trials,
        derived_findings=[d.as_dict() for d in snapshot.derived.values()],
        oral_antidepressants_on_record=list(snapshot.oral_antidepressants),
        engine_decision=result.decision.value,
        engine_findings=result.as_dict()["findings"],
        evaluated_at=at,
        fingerprint=snapshot.fingerprint,
        status=ScreeningStatus.SIGNED,
        signed_by=users["prescriber"],
        signed_at=at + dt.timedelta(hours=1),
        clinician_decision="eligible" if result.decision.value == "eligible" else REASONED,
        reasoning="" if result.decision.value == "eligible" else REASONING,
        valid_until=validity.last_valid_day(timezone.localdate(at)),
        created_by=users["nurse"],
        created_at=at,
    )


def _weight_on(patient: Patient, day: dt.date, users: dict[str, User]) -> WeightMeasurement:
    current = patient.current_weight()
    kg = current.weight_kg if current else Decimal("72.0")
    return WeightMeasurement.objects.create(
        patient=patient, weight_kg=kg, measured_on=day, recorded_by=users["nurse"]
    )


def _iv_dose(protocol: Protocol, weight, signed_on: dt.date):
    """The protocol's dose at 0.5 mg/kg for the weight on record when the plan was signed."""
    return dosing.calculate_dose(
        protocol.rules(),
        weight_kg=weight.weight_kg,
        dose_mg_per_kg=Decimal("0.5"),
        weight_measured_on=weight.measured_on,
        today=signed_on,
    )


def _historic_iv_plan(
    patient: Patient,
    users: dict[str, User],
    *,
    days_ago: int,
    status: str,
    start: dt.date | None = None,
    signed_at: dt.datetime | None = None,
) -> TreatmentPlan:
    """An IV induction plan signed ``days_ago`` days ago (at ``signed_at`` when given), its
    course starting the next day (or on ``start``)."""
    today = timezone.localdate()
    signed_on = today - dt.timedelta(days=days_ago)
    screening = _historic_screening(patient, users, days_ago + 1)
    weight = _weight_on(patient, signed_on - dt.timedelta(days=1), users)
    protocol = Protocol.objects.get(code="iv_racemic")
    dose = _iv_dose(protocol, weight, signed_on)
    start = start or signed_on + dt.timedelta(days=1)
    course = schedule.propose_schedule("iv_induction", start_date=start, working_weekdays=WEEKDAYS)
    signed_at = signed_at or timezone.now() - dt.timedelta(days=days_ago)
    therapist = users["therapist"]
    plan = TreatmentPlan.objects.create(
        patient=patient,
        screening=screening,
        protocol=protocol,
        indication=screening.indication,
        route="iv",
        status=status,
        dose_mg_per_kg=dose.dose_mg_per_kg,
        dose_mg=dose.dose_mg,
        rate_mg_per_min=dose.rate_mg_per_min,
        infusion_minutes=dose.infusion_minutes,
        weight_kg=weight.weight_kg,
        weight_measured_on=weight.measured_on,
        schedule_code="iv_induction",
        start_date=start,
        working_weekdays=WEEKDAYS,
        induction_sessions=len(course),
        psychotherapy_plan="Integration session with the therapist within 48 h of each infusion.",
        therapist=therapist,
        created_by=users["prescriber"],
        created_at=signed_at - dt.timedelta(hours=1),
        signed_by=users["prescriber"],
        signed_at=signed_at,
        ended_at=timezone.now() - dt.timedelta(days=days_ago - 25)
        if status == PlanStatus.COMPLETED
        else None,
        end_reason="Induction course completed; maintenance to be discussed."
        if status == PlanStatus.COMPLETED
        else "",
    )
    PlannedSession.objects.bulk_create(
        PlannedSession(plan=plan, number=s.number, date=s.date, phase=s.phase) for s in course
    )
    return plan


# --- The scenarios ---------------------------------------------------------------------------


def build_draft_screening(patient: Patient, users: dict[str, User]) -> None:
    _screen(patient, users["nurse"], bp=(132, 84))


def build_signed_eligible(patient: Patient, users: dict[str, User]) -> None:
    _sign(_screen(patient, users["nurse"], bp=(124, 78)), users["prescriber"], "eligible")


def build_needs_review(patient: Patient, users: dict[str, User]) -> None:
    screening = _screen(patient, users["nurse"], bp=(138, 86))
    _sign(
        screening,
        users["prescriber"],
        "eligible_with_reasoning",
        "Benzodiazepine reviewed with the patient: no dose within 24 h before a session; "
        "extra monitoring after dosing.",
    )


def build_ineligible(patient: Patient, users: dict[str, User]) -> None:
    screening = _screen(patient, users["nurse"], findings=["uncontrolled_hypertension"])
    _sign(
        screening,
        users["prescriber2"],
        "not_eligible",
        "Hypertension uncontrolled at two visits; back to primary care. Screen again when "
        "controlled.",
    )


def build_stale(patient: Patient, users: dict[str, User]) -> None:
    build_signed_eligible(patient, users)
    Medication.objects.create(
        patient=patient,
        name="Clonazepam",
        drug_class="benzodiazepine",
        dose="0.5 mg",
        frequency="at night",
        recorded_by=users["prescriber2"],
    )


def build_draft_plan(patient: Patient, users: dict[str, User]) -> None:
    prescriber = users["prescriber"]
    screening = _sign(
        _screen(patient, users["nurse"], route="esketamine", bp=(122, 76)), prescriber, "eligible"
    )
    today = timezone.localdate()
    plan_services.plan_create(
        request=DemoRequest(prescriber),
        patient=patient,
        data={
            "screening": screening,
            "protocol": "esketamine_trd",
            "dose_mg": Decimal(56),
            "schedule_code": "esketamine_trd",
            "start_date": today + dt.timedelta(days=7 - today.weekday()),
            "working_weekdays": WEEKDAYS,
            "horizon_weeks": 16,
            "psychotherapy_plan": "Weekly integration therapy during induction.",
            "therapist": users["therapist"],
        },
    )


def build_active_plan(patient: Patient, users: dict[str, User]) -> None:
    plan = _historic_iv_plan(patient, users, days_ago=10, status=PlanStatus.ACTIVE)
    weight = patient.current_weight()
    new = dosing.calculate_dose(
        plan.protocol.rules(),
        weight_kg=weight.weight_kg,
        dose_mg_per_kg=Decimal("0.6"),
        weight_measured_on=weight.measured_on,
        today=timezone.localdate(),
    )
    PlanDoseChange.objects.create(
        plan=plan,
        from_session=4,
        old_dose_mg=plan.dose_mg,
        old_dose_mg_per_kg=plan.dose_mg_per_kg,
        new_dose_mg=new.dose_mg,
        new_dose_mg_per_kg=new.dose_mg_per_kg,
        new_rate_mg_per_min=new.rate_mg_per_min,
        weight_kg=weight.weight_kg,
        weight_measured_on=weight.measured_on,
        reason="Partial response after three infusions; dissociation well tolerated.",
        warnings=list(new.warnings),
        changed_by=users["prescriber"],
        changed_at=timezone.now() - dt.timedelta(days=3),
    )


def build_completed_plan(patient: Patient, users: dict[str, User]) -> None:
    """Signed four months ago; ``demo/sessions.py`` gives its sessions, then completes it."""
    _historic_iv_plan(patient, users, days_ago=120, status=PlanStatus.ACTIVE)


SCENARIOS: list[tuple[str, Callable, Callable]] = [
    ("signed eligible", fits_clean_trd, build_signed_eligible),
    ("signed eligible with reasoning", fits_cns_trd, build_needs_review),
    ("ineligible", fits_anyone, build_ineligible),
    ("stale", fits_clean_trd, build_stale),
    ("draft screening", fits_anyone, build_draft_screening),
    ("draft plan", fits_esketamine_trd, build_draft_plan),
    ("active plan with a dose amendment", fits_iv_any, build_active_plan),
    ("completed plan", fits_iv_any, build_completed_plan),
]
