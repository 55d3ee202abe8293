"""Outcome data for the demo: questionnaire histories for the 40 demo patients, and a large
synthetic multi-year cohort (``manage.py demo --patients 20000``) for the dashboard.

The cohort is drawn so that the clinic's rates land near the published ones (REFERENCE.md
§7): TRD IV series response ~54% and remission ~29% on PHQ-9 (McInnes 2022), esketamine
nearer TRANSFORM-2, PTSD response on the PCL-5 10-point rule, responders still responding
~80% at 4 weeks and ~60% at 8 weeks after induction (McInnes 2022). Each course is a signed
plan with its planned sessions, the sessions given (discharged, with a nurse and a dose),
questionnaires answered on the days ``outcomes/schedule.py`` asks for them (some missed),
suicidal-ideation answers with their documented follow-up, and a few adverse events and
vital-sign alerts. No real people: names come from the demo clinic's lists, MRNs start
with ``COH``.

Everything is written with ``bulk_create`` in chunks of patients, so 20,000 patients take a
few minutes on two cores and little memory. Drawn from a fixed seed per patient, so a rerun
adds only what is missing.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.audit import trail
from ketaclinic.audit.models import AuditEvent
from ketaclinic.charting import safety, vitals
from ketaclinic.demo import stock as demo_stock
from ketaclinic.outcomes import schedule, scoring, services
from ketaclinic.outcomes.models import (
    Channel,
    FollowUpAction,
    MeasurementTask,
    Response,
    ResponseStatus,
    SafetyTask,
    SafetyTaskStatus,
    TaskStatus,
)
from ketaclinic.outcomes.seeding import seed_instruments
from ketaclinic.patients.duplicates import Identity
from ketaclinic.patients.models import CareRole, CareTeamMember, Diagnosis, Patient, Sex
from ketaclinic.protocols.models import Protocol
from ketaclinic.protocols.seeding import seed_protocols

DETAILED_PATIENTS = 40
# Cohort patients loaded by default: about 170 courses across indications and routes, enough
# for the dashboard's rates and Kaplan-Meier curve to mean something out of the box.
DEFAULT_COHORT = 160
MRN_PREFIX = "COH"
SEED = 6006
CHUNK = 1000
YEARS = 3
HISTORY_MARKER = "demo.load_outcomes"

EXTRA_PRESCRIBERS = [
    ("prescriber3", "Ana", "Lopez", "MD"),
    ("prescriber4", "Ben", "Weiss", "DO"),
]

# indication: (weight, ICD-10 code, {route: weight})
INDICATIONS = {
    "trd": (52, "F33.2", {"iv": 62, "esketamine": 22, "im": 8, "sublingual": 6, "oral": 2}),
    "mdd_suicidal_ideation": (8, "R45.851", {"iv": 70, "esketamine": 30}),
    "ptsd": (12, "F43.12", {"iv": 80, "im": 10, "sublingual": 10}),
    "anxiety": (10, "F41.1", {"iv": 70, "sublingual": 25, "oral": 5}),
    "ocd": (3, "F42.2", {"iv": 100}),
    "bipolar_depression": (6, "F31.81", {"iv": 100}),
    "chronic_pain": (9, "G89.29", {"iv": 85, "im": 15}),
}
PROTOCOLS = {
    "iv": "iv_racemic",
    "im": "im_racemic",
    "sublingual": "sublingual_racemic",
    "oral": "oral_racemic",
}


@dataclass(frozen=True)
class Profile:
    """Share of courses ending in response, in remission (a subset of response) and worse."""

    response: float
    remission: float
    worse: float = 0.06


# Targets at the end of the course (REFERENCE.md §7 where a figure exists; else a guess).
PROFILES = {
    ("trd", "iv"): Profile(0.54, 0.29, 0.084),  # McInnes 2022 (real world, PHQ-9)
    ("trd", "esketamine"): Profile(0.63, 0.43),  # between real world and TRANSFORM-2
    ("trd", "im"): Profile(0.50, 0.26),
    ("trd", "sublingual"): Profile(0.46, 0.22),
    ("trd", "oral"): Profile(0.40, 0.18),
    ("mdd_suicidal_ideation", "iv"): Profile(0.58, 0.30),
    ("mdd_suicidal_ideation", "esketamine"): Profile(0.60, 0.34),
    ("ptsd", "iv"): Profile(0.55, 0.0),
    ("ptsd", "im"): Profile(0.50, 0.0),
    ("ptsd", "sublingual"): Profile(0.45, 0.0),
    ("anxiety", "iv"): Profile(0.52, 0.30),
    ("anxiety", "sublingual"): Profile(0.60, 0.32),  # Hull 2022 (GAD-7, open label)
    ("anxiety", "oral"): Profile(0.45, 0.25),
    ("ocd", "iv"): Profile(0.40, 0.20),
    ("bipolar_depression", "iv"): Profile(0.48, 0.24),
    ("chronic_pain", "iv"): Profile(0.50, 0.0),
    ("chronic_pain", "im"): Profile(0.45, 0.0),
}
# Relapse hazard per day after induction: S(28) ~ 0.80, S(56) ~ 0.64 (McInnes 2022).
RELAPSE_PER_DAY = -math.log(0.80) / 28
# With maintenance sessions relapse is slower (SUSTAIN-1: 26.7% over months).
RELAPSE_PER_DAY_MAINTAINED = 0.003
ANSWER_RATE = 0.9
BASELINE_RATE = 0.96


@dataclass(frozen=True)
class Regimen:
    schedule_code: str
    days: tuple[int, ...]
    phases: tuple[str, ...]


def regimen(route: str, indication: str) -> Regimen:
    if route == "iv":
        days = (0, 2, 4, 7, 9, 11)
        return Regimen("iv_induction", days, ("induction",) * 6)
    if route == "esketamine":
        induction = (0, 3, 7, 10, 14, 17, 21, 24)
        if indication == "mdd_suicidal_ideation":
            return Regimen("esketamine_mdsi", induction, ("induction",) * 8)
        optimization = (28, 35, 42, 49)
        return Regimen(
            "esketamine_trd",
            induction + optimization,
            ("induction",) * 8 + ("optimization",) * 4,
        )
    if route == "im":
        return Regimen("", (0, 3, 7, 10, 14, 17), ("induction",) * 6)
    return Regimen("", (0, 7, 14, 21, 28, 35), ("induction",) * 6)


def planned_dose(route: str, weight_kg: float) -> tuple[Decimal, Decimal | None, Decimal | None]:
    """Dose, mg/kg and rate as a plan would hold them (REFERENCE.md §1 ranges)."""
    if route == "esketamine":
        return Decimal(84), None, None
    if route == "iv":
        dose = Decimal(f"{0.5 * weight_kg:.1f}")
        return dose, Decimal("0.500"), (dose / 40).quantize(Decimal("0.01"))
    if route == "im":
        return Decimal(f"{0.5 * weight_kg:.1f}"), Decimal("0.500"), None
    if route == "sublingual":
        return Decimal(150), None, None
    return Decimal(f"{1.0 * weight_kg:.1f}"), Decimal("1.000"), None


# --- answers that add up to a total ------------------------------------------------------


@cache
def answer_pool(code: str, total: int, flagged: bool) -> tuple[tuple[tuple[int, ...], object], ...]:
    """A few answer vectors scoring ``total`` (item 9 > 0 only when flagged), with scores."""
    instrument = services.definition(code).instrument
    rng = random.Random(f"{code}-{total}-{flagged}")
    items = instrument.items
    flag_items = {rule.item for rule in instrument.flags}
    pool = []
    for _ in range(8):
        values = [item.min_value for item in items]
        capacity = [item.max_value - item.min_value for item in items]
        remaining = total - sum(values)
        if flagged and flag_items:
            first = min(flag_items)
            values[first - 1] += 1
            capacity[first - 1] -= 1
            remaining -= 1
        for number in flag_items if not flagged else ():
            capacity[number - 1] = 0
        open_items = [i for i, c in enumerate(capacity) if c > 0]
        while remaining > 0 and open_items:
            i = rng.choice(open_items)
            values[i] += 1
            capacity[i] -= 1
            remaining -= 1
            if capacity[i] == 0:
                open_items.remove(i)
        result = scoring.score(instrument, values)
        if isinstance(result, scoring.ScoreResult) and result.total == total:
            pool.append((tuple(values), result))
    return tuple(pool)


def answers_for(code: str, total: int, flagged: bool, rng: random.Random):
    scale = SCALES[code]
    total = max(scale.low, min(scale.high, total))
    pool = answer_pool(code, total, flagged) or answer_pool(code, total, not flagged)
    return rng.choice(pool)


# --- trajectories ----------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    low: int
    high: int
    baseline_mean: float
    baseline_sd: float
    baseline_min: int
    fall_pct: int | None
    fall_points: int | None
    remission_at: int | None


SCALES = {
    "phq9": Scale(0, 27, 18.5, 3.8, 10, 50, None, 4),
    "gad7": Scale(0, 21, 14.5, 3.2, 8, 50, None, 4),
    "pcl5": Scale(0, 80, 52, 10, 33, None, 10, None),
    "pain_nrs": Scale(0, 10, 7.2, 1.3, 4, None, None, None),
}


def response_line(scale: Scale, baseline: int) -> int:
    if scale.fall_points is not None:
        return baseline - scale.fall_points
    if scale.fall_pct is not None:
        return (baseline * (100 - scale.fall_pct)) // 100
    return (baseline * 7) // 10  # pain: 30% fall, only to draw a plausible course


def draw_end(scale: Scale, baseline: int, profile: Profile, rng: random.Random) -> tuple[int, bool]:
    """The end-of-course score and whether it is a response."""
    line = response_line(scale, baseline)
    u = rng.random()
    if scale.remission_at is not None and u < profile.remission:
        return rng.randint(scale.low, min(scale.remission_at, line)), True
    if u < profile.response:
        floor = scale.remission_at + 1 if scale.remission_at is not None else scale.low
        return rng.randint(min(floor, line), line), True
    if u < profile.response + profile.worse:
        return min(scale.high, baseline + rng.randint(1, 4)), False
    return rng.randint(min(line + 1, baseline), baseline), False


def level(scale: Scale, baseline: int, end: int, day: int, end_day: int, rng, noise=1.0) -> int:
    """Score on ``day`` of a course moving from baseline (day 0) to ``end`` by ``end_day``."""
    if day <= 0:
        value = baseline + rng.gauss(0, noise)
    else:
        tau = 4.0
        reach = (1 - math.exp(-day / tau)) / (1 - math.exp(-max(end_day, 1) / tau))
        value = baseline + (end - baseline) * min(1.0, reach) + rng.gauss(0, noise)
    return max(scale.low, min(scale.high, round(value)))


# --- building ----------------------------------------------------------------------------


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def at_local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=_zone())


def _users() -> dict[str, User]:
    from ketaclinic.demo.clinic import DEMO_PASSWORD, STAFF, ensure_user

    for spec in STAFF:
        ensure_user(spec)
    users = {u.username: u for u in User.objects.filter(role__in=[Role.PRESCRIBER, Role.NURSE])}

    for username, first, last, credentials in EXTRA_PRESCRIBERS:
        if username not in users:
            user = User(
                username=username,
                first_name=first,
                last_name=last,
                role=Role.PRESCRIBER,
                credentials=credentials,
                email=f"{username}@ketaclinic.example",
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
            users[username] = user
    return users


class Batch:
    """Rows waiting for bulk_create, written in dependency order."""

    def __init__(self) -> None:
        self.patients: list[Patient] = []
        self.diagnoses: list[Diagnosis] = []
        self.care: list[CareTeamMember] = []
        self.screenings: list = []
        self.plans: list = []
        self.planned: list = []
        self.sessions: list = []
        self.given: list[tuple] = []  # (session, its administration rows)
        self.responses: list[Response] = []
        self.flagged: list[tuple[Response, User, bool]] = []
        self.events: list = []
        self.alerts: list = []
        self.tasks: list[tuple[MeasurementTask, Response | None]] = []

    def write(self) -> None:
        from ketaclinic.charting.models import AdverseEvent, SafetyAlert, TreatmentSession
        from ketaclinic.plans.models import PlannedSession, TreatmentPlan
        from ketaclinic.screening.models import Screening

        size = 2000
        Patient.objects.bulk_create(self.patients, batch_size=size)
        Diagnosis.objects.bulk_create(self.diagnoses, batch_size=size)
        CareTeamMember.objects.bulk_create(self.care, batch_size=size)
        Screening.objects.bulk_create(self.screenings, batch_size=size)
        TreatmentPlan.objects.bulk_create(self.plans, batch_size=size)
        PlannedSession.objects.bulk_create(self.planned, batch_size=size)
        TreatmentSession.objects.bulk_create(self.sessions, batch_size=size)
        self.write_given(size)
        Response.objects.bulk_create(self.responses, batch_size=size)
        now = timezone.now()
        SafetyTask.objects.bulk_create(
            [
                SafetyTask(
                    patient=r.patient,
                    response=r,
                    flag="suicidal_ideation",
                    finding=f"{r.instrument.name} item 9 answered "
                    f"{r.instrument.instrument.item(9).option(r.answers[8]).text!r}",
                    assigned_to=prescriber,
                    created_at=r.submitted_at,
                    **(
                        {}
                        if still_open
                        else {
                            "status": SafetyTaskStatus.RESOLVED,
                            "follow_up_action": FollowUpAction.PHONE,
                            "follow_up_note": "Called the patient the same day: passive "
                            "thoughts, no plan or intent; safety plan reviewed; crisis line "
                            "number given; next visit kept.",
                            "resolved_by": prescriber,
                            "resolved_at": min(now, r.submitted_at + dt.timedelta(hours=3)),
                        }
                    ),
                )
                for r, prescriber, still_open in self.flagged
            ],
            batch_size=size,
        )
        AdverseEvent.objects.bulk_create(self.events, batch_size=size)
        SafetyAlert.objects.bulk_create(self.alerts, batch_size=size)
        for task, response in self.tasks:
            if response is not None:
                task.response = response
        MeasurementTask.objects.bulk_create([t for t, _ in self.tasks], batch_size=size)

    def write_given(self, size: int) -> None:
        """The sessions' administration records, and their doses drawn from stock."""
        from ketaclinic.charting import administration_service
        from ketaclinic.charting.models import BolusDose, InfusionEvent, NasalDevice

        if not self.given:
            return
        for model in (InfusionEvent, BolusDose, NasalDevice):
            model.objects.bulk_create(
                [row for _, rows in self.given for row in rows if isinstance(row, model)],
                batch_size=size,
            )
        delivered = {}
        for session, rows in self.given:
            total = administration_service.delivered(
                session,
                [r for r in rows if isinstance(r, InfusionEvent)],
                [r for r in rows if isinstance(r, BolusDose)],
                [r for r in rows if isinstance(r, NasalDevice)],
            )
            delivered[session.pk] = total.total_mg.quantize(Decimal("0.01"))
        demo_stock.write_cohort_ledger([s for s, _ in self.given], delivered)


def _weighted(rng: random.Random, choices: dict[str, int]) -> str:
    return rng.choices(list(choices), weights=list(choices.values()))[0]


def _course_start(rng: random.Random, today: dt.date) -> dt.date:
    # More courses recently (a growing clinic): density rising linearly over the years.
    u = math.sqrt(rng.random())
    day = today - dt.timedelta(days=int((1 - u) * YEARS * 365) + 1)
    return day - dt.timedelta(days=day.weekday())  # courses start on a Monday


@dataclass
class CourseDraft:
    """One drawn course before it is written: what was planned, what was given, by whom."""

    patient: Patient
    indication: str
    route: str
    start: dt.date
    today: dt.date
    nurse: User
    prescriber: User
    regimen: Regimen
    protocol_code: str
    protocol: Protocol
    dose: Decimal
    per_kg: Decimal | None
    rate: Decimal | None
    planned_days: list[dt.date]
    given_days: list[dt.date]
    status: str
    signed_at: dt.datetime

    @property
    def last_planned(self) -> dt.date:
        return self.planned_days[-1]


@dataclass(frozen=True)
class Trajectory:
    """How the course's primary score moves: baseline, end, response and any relapse."""

    primary: str
    baseline: int
    end: int
    responding: bool
    end_of_induction: int
    relapse_day: float | None
    relapse_to: int | None
    si_patient: bool


def add_course(
    batch: Batch,
    rng: random.Random,
    *,
    patient: Patient,
    indication: str,
    route: str,
    start: dt.date,
    today: dt.date,
    users: dict[str, User],
    prescriber: User,
    protocols: dict[str, Protocol],
    definitions: dict,
    weight_kg: float,
    age: int,
) -> dt.date:
    """One course: screening, signed plan, sessions, questionnaires, safety events.

    Returns the last day the course occupies (to place a later course after it). The steps
    draw from ``rng`` in a fixed order, so a patient's seed always gives the same course.
    """
    draft = _draw_course(
        rng,
        patient=patient,
        indication=indication,
        route=route,
        start=start,
        today=today,
        nurse=users[rng.choice(["nurse", "nurse2"])],
        prescriber=prescriber,
        protocols=protocols,
        weight_kg=weight_kg,
    )
    screening = _course_screening(batch, rng, draft, age=age)
    plan = _course_plan(batch, draft, screening=screening, weight_kg=weight_kg)
    for number, day in enumerate(draft.given_days, 1):
        _course_session(batch, rng, draft, plan=plan, number=number, day=day)
    _course_questionnaires(batch, rng, draft, plan=plan, definitions=definitions)
    return max(draft.last_planned, start + dt.timedelta(days=120))


def _draw_course(
    rng: random.Random,
    *,
    route: str,
    indication: str,
    start: dt.date,
    today: dt.date,
    protocols: dict[str, Protocol],
    weight_kg: float,
    **people,
) -> CourseDraft:
    """The course's regimen, dose and planned days, how many were given, and its status."""
    course = regimen(route, indication)
    protocol_code = (
        course.schedule_code if route == "esketamine" else PROTOCOLS.get(route, "iv_racemic")
    )
    dose, per_kg, rate = planned_dose(route, weight_kg)
    planned_days = [start + dt.timedelta(days=d) for d in course.days]
    stopped_after = rng.choice([2, 3, 4]) if rng.random() < 0.06 else None
    given_days = planned_days[:stopped_after] if stopped_after else planned_days
    given_days = [d for d in given_days if d < today]
    if stopped_after and len(given_days) == stopped_after:
        status = "stopped"
    elif planned_days[-1] < today:
        status = "completed"
    else:
        status = "active"
    return CourseDraft(
        indication=indication,
        route=route,
        start=start,
        today=today,
        regimen=course,
        protocol_code=protocol_code,
        protocol=protocols[protocol_code],
        dose=dose,
        per_kg=per_kg,
        rate=rate,
        planned_days=planned_days,
        given_days=given_days,
        status=status,
        signed_at=at_local(start - dt.timedelta(days=3), 15),
        **people,
    )


def _course_screening(batch: Batch, rng: random.Random, draft: CourseDraft, *, age: int):
    """The signed eligibility screening three days before the course."""
    from ketaclinic.screening.models import Screening

    asked_at = draft.signed_at - dt.timedelta(hours=2)
    screening = Screening(
        patient=draft.patient,
        route=draft.route,
        indication=draft.indication,
        status="signed",
        answered_by=draft.nurse,
        answered_at=asked_at,
        age_years=age,
        adequate_trials=rng.randint(2, 4),
        engine_decision="eligible",
        evaluated_at=asked_at,
        signed_by=draft.prescriber,
        signed_at=draft.signed_at - dt.timedelta(hours=1),
        clinician_decision="eligible",
        valid_until=draft.start + dt.timedelta(days=90),
        created_by=draft.nurse,
        created_at=asked_at,
        systolic_mmhg=rng.randint(112, 136),
        diastolic_mmhg=rng.randint(68, 86),
        bp_measured_at=asked_at,
    )
    batch.screenings.append(screening)
    return screening


END_REASONS = {
    "active": "",
    "completed": "Course completed.",
    "stopped": "Stopped by the patient after a few sessions.",
}


def _course_plan(batch: Batch, draft: CourseDraft, *, screening, weight_kg: float):
    """The signed plan and its planned sessions."""
    from ketaclinic.plans.models import PlannedSession, TreatmentPlan

    route, course = draft.route, draft.regimen
    weighed = route != "esketamine"
    last_day = (draft.given_days or draft.planned_days)[-1]
    plan = TreatmentPlan(
        patient=draft.patient,
        screening=screening,
        protocol=draft.protocol,
        indication=draft.indication,
        route=route,
        status=draft.status,
        dose_mg_per_kg=draft.per_kg,
        dose_mg=draft.dose,
        rate_mg_per_min=draft.rate,
        infusion_minutes=40 if route == "iv" else None,
        devices=3 if route == "esketamine" else None,
        weight_kg=Decimal(f"{weight_kg:.1f}") if weighed else None,
        weight_measured_on=draft.start - dt.timedelta(days=4) if weighed else None,
        schedule_code=course.schedule_code,
        start_date=draft.start,
        working_weekdays=[0, 1, 2, 3, 4],
        induction_sessions=course.phases.count("induction"),
        session_count=len(course.days),
        created_by=draft.prescriber,
        created_at=draft.signed_at - dt.timedelta(minutes=30),
        signed_by=draft.prescriber,
        signed_at=draft.signed_at,
        ended_at=at_local(last_day, 17) if draft.status != "active" else None,
        end_reason=END_REASONS[draft.status],
    )
    batch.plans.append(plan)
    for number, (day, phase) in enumerate(zip(draft.planned_days, course.phases, strict=True), 1):
        batch.planned.append(PlannedSession(plan=plan, number=number, date=day, phase=phase))
    return plan


def _course_session(
    batch: Batch, rng: random.Random, draft: CourseDraft, *, plan, number: int, day: dt.date
) -> None:
    """One given session, discharged, with what was given and any alert or adverse event."""
    from ketaclinic.charting.models import TreatmentSession

    route = draft.route
    started = at_local(day, rng.choice([9, 10, 11, 13, 14, 15]), rng.choice([0, 15, 30, 45]))
    session = TreatmentSession(
        patient=draft.patient,
        plan=plan,
        session_number=number,
        route=route,
        protocol_code=draft.protocol_code,
        drug="esketamine" if route == "esketamine" else "racemic ketamine",
        planned_dose_mg=draft.dose,
        planned_rate_mg_per_min=draft.rate,
        planned_minutes=40 if route == "iv" else None,
        status="discharged",
        nurse=draft.nurse,
        prescriber_on_site=draft.prescriber,
        opened_at=started - dt.timedelta(minutes=30),
        dose_started_at=started,
        dose_ended_at=started + dt.timedelta(minutes=40 if route == "iv" else 10),
        discharged_at=started + dt.timedelta(minutes=120),
    )
    product, lot_number, expiry = demo_stock.cohort_lot(route, day)
    session.product, session.lot_number, session.lot_expiry = product, lot_number, expiry
    if demo_stock.cohort_product(route) == "injection":
        session.concentration_mg_per_ml = Decimal(50)
    batch.sessions.append(session)
    given = administration_rows(session, route, draft.dose, draft.rate, draft.nurse)
    batch.given.append((session, given))
    if rng.random() < 0.045:
        batch.alerts.append(_session_alert(rng, session, started, draft.nurse))
    if rng.random() < 0.008:
        batch.events.append(_session_adverse_event(rng, session, started, draft.nurse))


def _session_alert(rng: random.Random, session, started: dt.datetime, nurse: User):
    """A blood-pressure alert 20 minutes into the dose, acknowledged and acted on.

    The reading is drawn above the clinic policy's limit and the alert is what the product's
    own rules raise for it (label, finding, advice for the dosing phase, basis).
    """
    from ketaclinic.charting.models import SafetyAlert

    reading = vitals.VitalReading(
        minute=20, systolic_mmhg=rng.randint(180, 196), diastolic_mmhg=rng.randint(92, 108)
    )
    (alert,) = safety.evaluate([reading], phase="dosing")
    return SafetyAlert(
        session=session,
        code=alert.code,
        level=alert.level,
        action=alert.action,
        basis=alert.basis,
        finding=alert.finding,
        raised_at=started + dt.timedelta(minutes=20),
        acknowledged_by=nurse,
        acknowledged_at=started + dt.timedelta(minutes=22),
        action_taken="Infusion paused; recheck 5 min later 148/88 mmHg; resumed.",
    )


def _session_adverse_event(rng: random.Random, session, started: dt.datetime, nurse: User):
    """An adverse event: mostly nausea; rarely serious (reportable)."""
    from ketaclinic.charting.models import AdverseEvent

    serious = rng.random() < 0.08
    return AdverseEvent(
        session=session,
        at=started + dt.timedelta(minutes=30),
        recorded_at=started + dt.timedelta(minutes=35),
        recorded_by=nurse,
        description="Prolonged dissociation with vomiting; observed until resolved."
        if serious
        else "Nausea and vomiting after the session, treated with ondansetron.",
        serious=serious,
        report_required=serious,
        rems_reportable=session.route == "esketamine",
    )


def _course_questionnaires(
    batch: Batch, rng: random.Random, draft: CourseDraft, *, plan, definitions: dict
) -> None:
    """Questionnaires on the days the schedule asks for them (some missed), and open tasks."""
    planned = zip(draft.planned_days, draft.regimen.phases, strict=True)
    sessions_for_schedule = [
        schedule.CourseSession(n, d, p)
        for n, (d, p) in enumerate(planned, 1)
        if d in draft.given_days or d >= draft.today
    ]
    policy = schedule.shipped_policy()
    codes = [c for c in policy.instruments_for(draft.indication) if c in definitions]
    primary = codes[0]
    extra = ["gad7"] if draft.indication == "trd" and rng.random() < 0.2 else []
    due = schedule.measures_due(sessions_for_schedule, [primary, *extra], policy)
    trajectory = _draw_trajectory(rng, draft, primary)
    answered: dict[tuple[str, str, dt.date], Response] = {}
    for measure in due:
        response = _answer(batch, rng, draft, measure, trajectory, plan, definitions)
        if response is not None:
            answered[(measure.instrument, measure.reason, measure.due_on)] = response
    if draft.status == "active":
        _course_tasks(batch, draft, due, answered, plan, definitions)


def _draw_trajectory(rng: random.Random, draft: CourseDraft, primary: str) -> Trajectory:
    """Baseline and end score, response, and when a responder relapses (if ever)."""
    scale = SCALES[primary]
    baseline = max(
        scale.baseline_min,
        min(scale.high, round(rng.gauss(scale.baseline_mean, scale.baseline_sd))),
    )
    profile = PROFILES.get((draft.indication, draft.route), Profile(0.5, 0.25))
    end, responding = draw_end(scale, baseline, profile, rng)
    induction_days = [
        (d - draft.start).days
        for d, p in zip(draft.planned_days, draft.regimen.phases, strict=True)
        if p == "induction" and d in draft.given_days
    ]
    end_of_induction = induction_days[-1] + 1 if induction_days else 1
    maintained = "optimization" in draft.regimen.phases
    hazard = RELAPSE_PER_DAY_MAINTAINED if maintained else RELAPSE_PER_DAY
    relapse_day = end_of_induction + rng.expovariate(hazard) if responding else None
    relapse_to = rng.randint(response_line(scale, baseline) + 1, baseline) if responding else None
    si_patient = draft.indication in ("mdd_suicidal_ideation",) or rng.random() < 0.2
    return Trajectory(
        primary, baseline, end, responding, end_of_induction, relapse_day, relapse_to, si_patient
    )


def _answer_day(rng: random.Random, measure) -> dt.date | None:
    """The day the patient answered ``measure``, or None when they missed it."""
    day = measure.due_on
    if measure.reason == schedule.BASELINE:
        day = measure.due_on - dt.timedelta(days=rng.choice([0, 0, 1, 2, 5]))
        if rng.random() > BASELINE_RATE:
            return None
    elif measure.reason in (schedule.AFTER_FIRST, schedule.AFTER_LAST):
        day = measure.opens_on
        if rng.random() > ANSWER_RATE:
            return None
    elif rng.random() > ANSWER_RATE:
        return None
    if measure.reason in (schedule.MONTHLY, schedule.FOLLOW_UP):
        day = measure.opens_on + dt.timedelta(days=rng.randint(0, 4))
    return day


def _score(rng: random.Random, measure, trajectory: Trajectory, offset: int) -> int:
    """The instrument's total on the day ``offset`` days into the course."""
    t, code = trajectory, measure.instrument
    own_scale, scale = SCALES[code], SCALES[t.primary]
    if code == t.primary:
        own_baseline, own_end = t.baseline, t.end
    else:
        own_baseline = max(own_scale.baseline_min, round(rng.gauss(own_scale.baseline_mean, 3)))
        own_end = round(own_baseline * t.end / max(t.baseline, 1))
    if offset <= 0 and measure.reason == schedule.BASELINE:
        return own_baseline
    if measure.reason == schedule.AFTER_LAST and code == t.primary:
        return own_end
    if t.relapse_day is not None and offset > t.end_of_induction and offset >= t.relapse_day:
        return t.relapse_to if code == t.primary else own_baseline
    if offset > t.end_of_induction and code == t.primary and t.responding:
        return min(response_line(scale, t.baseline), max(scale.low, t.end + rng.randint(-1, 1)))
    return level(own_scale, own_baseline, own_end, offset, t.end_of_induction, rng)


def _answer(
    batch: Batch,
    rng: random.Random,
    draft: CourseDraft,
    measure,
    trajectory: Trajectory,
    plan,
    definitions: dict,
) -> Response | None:
    """The patient's response to one scheduled measure, or None if missed or not yet due."""
    day = _answer_day(rng, measure)
    if day is None or day >= draft.today:
        return None
    offset = (day - draft.start).days
    code = measure.instrument
    total = _score(rng, measure, trajectory, offset)
    flagged = (
        code == "phq9"
        and trajectory.si_patient
        and total >= 8
        and rng.random() < (0.6 if offset <= 0 else 0.25) * total / 27
    )
    values, result = answers_for(code, total, flagged, rng)
    submitted = at_local(day, rng.randint(7, 21), rng.randint(0, 59))
    channel = _weighted(rng, {Channel.PORTAL: 80, Channel.PAPER: 14, Channel.PHONE: 6})
    response = completed_response(
        draft.patient,
        definitions[code],
        values,
        result,
        channel=channel,
        entered_by=draft.nurse,
        submitted=submitted,
        minutes_taken=4,
        plan=plan,
    )
    batch.responses.append(response)
    if result.flags:
        still_open = (draft.today - day).days <= 2
        batch.flagged.append((response, draft.prescriber, still_open))
    return response


def _course_tasks(batch: Batch, draft: CourseDraft, due, answered, plan, definitions) -> None:
    """An active course's measurement tasks: done where answered, else open."""
    for measure in due:
        response = answered.get((measure.instrument, measure.reason, measure.due_on))
        task = MeasurementTask(
            patient=draft.patient,
            plan=plan,
            instrument=definitions[measure.instrument],
            reason=measure.reason,
            session_number=measure.session_number,
            opens_on=measure.opens_on,
            due_on=measure.due_on,
            status=TaskStatus.DONE if response else TaskStatus.OPEN,
            closed_at=response.submitted_at if response else None,
        )
        batch.tasks.append((task, response))


def administration_rows(session, route: str, dose: Decimal, rate, nurse) -> list:
    """What the nurse charted as given: the infusion, the injection or dose, or the devices."""
    from ketaclinic.charting.models import BolusDose, InfusionEvent, NasalDevice

    start = session.dose_started_at
    stamp = {"recorded_by": nurse, "recorded_at": start}
    if route == "iv":
        return [
            InfusionEvent(session=session, kind="start", rate_mg_per_min=rate, at=start, **stamp),
            InfusionEvent(
                session=session, kind="stop", at=start + dt.timedelta(minutes=40), **stamp
            ),
        ]
    if route == "esketamine":
        return [
            NasalDevice(session=session, at=start + dt.timedelta(minutes=5 * n), **stamp)
            for n in range(int(dose // 28))
        ]
    return [BolusDose(session=session, dose_mg=dose, at=start + dt.timedelta(minutes=1), **stamp)]


def load_cohort(extra_patients: int, *, progress=None) -> dict[str, int]:
    """Add ``extra_patients`` cohort patients (COH000001…), skipping those already there."""
    seed_protocols()
    seed_instruments()
    users = _users()
    context = CohortContext(
        users=users,
        prescribers=[users[u] for u in ("prescriber", "prescriber2", "prescriber3", "prescriber4")],
        protocols={p.code: p for p in Protocol.objects.all()},
        definitions=services.usable_definitions(),
        today=timezone.localdate(),
        # One record per person: a drawn name and birthday already in the clinic moves a day.
        known={
            Identity(given, family, born).key
            for given, family, born in Patient.objects.values_list(
                "given_name", "family_name", "date_of_birth"
            )
        },
    )
    existing = set(Patient.objects.filter(mrn__startswith=MRN_PREFIX).values_list("mrn", flat=True))
    counts = {"patients": 0, "courses": 0, "sessions": 0, "responses": 0}
    numbers = [n for n in range(1, extra_patients + 1) if f"{MRN_PREFIX}{n:06d}" not in existing]
    for chunk_start in range(0, len(numbers), CHUNK):
        batch = Batch()
        for number in numbers[chunk_start : chunk_start + CHUNK]:
            counts["courses"] += _cohort_patient(batch, context, number)
        with transaction.atomic():
            batch.write()
        counts["patients"] += len(batch.patients)
        counts["sessions"] += len(batch.sessions)
        counts["responses"] += len(batch.responses)
        if progress:
            progress(counts)
    if counts["patients"]:
        trail.record(action="demo.load_cohort", actor_username="demo", detail=counts)
    return counts


@dataclass
class CohortContext:
    """What every cohort patient is drawn against: staff, catalog, instruments, today."""

    users: dict[str, User]
    prescribers: list[User]
    protocols: dict[str, Protocol]
    definitions: dict
    today: dt.date
    known: set


def _cohort_patient(batch: Batch, context: CohortContext, number: int) -> int:
    """One cohort patient from their own seed: the record, one course, sometimes a second.

    Returns the number of courses added.
    """
    rng = random.Random(SEED * 1_000_003 + number)
    sex = rng.choices([Sex.FEMALE, Sex.MALE, Sex.OTHER], weights=[55, 42, 3])[0]
    age = rng.randint(19, 78)
    indication = _weighted(rng, {k: v[0] for k, v in INDICATIONS.items()})
    route = _weighted(rng, INDICATIONS[indication][2])
    prescriber = rng.choice(context.prescribers)
    patient = _cohort_record(batch, rng, context, number, sex=sex, age=age)
    batch.diagnoses.append(
        Diagnosis(patient=patient, icd10_code=INDICATIONS[indication][1], recorded_by=prescriber)
    )
    batch.care.append(
        CareTeamMember(
            patient=patient, role=CareRole.PRESCRIBER, user=prescriber, recorded_by=prescriber
        )
    )
    weight = max(45.0, min(150.0, rng.gauss(70 if sex == Sex.FEMALE else 84, 14)))
    course = {
        "patient": patient,
        "indication": indication,
        "route": route,
        "today": context.today,
        "users": context.users,
        "prescriber": prescriber,
        "protocols": context.protocols,
        "definitions": context.definitions,
        "weight_kg": weight,
        "age": age,
    }
    ends = add_course(batch, rng, start=_course_start(rng, context.today), **course)
    if rng.random() >= 0.14:
        return 1
    again = ends + dt.timedelta(days=rng.randint(30, 360))
    again -= dt.timedelta(days=again.weekday())
    if again >= context.today - dt.timedelta(days=3):
        return 1
    add_course(batch, rng, start=again, **course)
    return 2


def _cohort_record(
    batch: Batch, rng: random.Random, context: CohortContext, number: int, *, sex: str, age: int
) -> Patient:
    """The patient's record: a drawn name and a birthday no other record shares."""
    from ketaclinic.demo.clinic import FAMILY, GIVEN

    given, family = rng.choice(GIVEN[sex]), rng.choice(FAMILY)
    born = context.today - dt.timedelta(days=age * 365 + rng.randint(0, 364))
    while Identity(given, family, born).key in context.known:
        born -= dt.timedelta(days=1)
    context.known.add(Identity(given, family, born).key)
    patient = Patient(
        mrn=f"{MRN_PREFIX}{number:06d}",
        given_name=given,
        family_name=family,
        date_of_birth=born,
        sex=sex,
        email=f"cohort{number}@example.org",
        phone=f"860-555-01{number % 100:02d}",
        created_by=context.users["prescriber"],
    )
    batch.patients.append(patient)
    return patient


def completed_response(
    patient: Patient,
    definition,
    values,
    result,
    *,
    channel: str,
    entered_by: User | None,
    submitted: dt.datetime,
    minutes_taken: int = 5,
    plan=None,
) -> Response:
    """A submitted questionnaire, as the portal or a nurse entering paper/phone answers saves it."""
    return Response(
        patient=patient,
        instrument=definition,
        instrument_version=definition.version,
        answers=list(values),
        status=ResponseStatus.COMPLETED,
        total=result.total,
        band=result.band or "",
        flags=list(result.flags),
        subscores=dict(result.subscores),
        provisional_ptsd=result.provisional_ptsd,
        channel=channel,
        entered_by=None if channel == Channel.PORTAL else entered_by,
        plan=plan,
        started_at=submitted - dt.timedelta(minutes=minutes_taken),
        updated_at=submitted,
        submitted_at=submitted,
    )


# --- the 40 demo patients -------------------------------------------------------------------


def load_histories(users: dict[str, User]) -> int:
    """Questionnaire histories for the demo clinic's patients; once (an audit row marks it).

    Patients with a signed demo plan get its sessions (when charting has none yet) and the
    questionnaires of its schedule; the others an intake PHQ-9 (and the instrument of their
    indication); one patient has a fresh suicidal-ideation answer waiting on the worklist.
    """
    if AuditEvent.objects.filter(action=HISTORY_MARKER).exists():
        return 0
    from ketaclinic.plans.models import TreatmentPlan

    patients = list(Patient.objects.filter(mrn__startswith="DEMO").order_by("mrn"))
    if not patients:
        return 0
    seed_instruments()
    definitions = services.usable_definitions()
    today = timezone.localdate()
    batch = Batch()
    rng = random.Random(SEED)
    protocols = {p.code: p for p in Protocol.objects.all()}
    planned_patients = set()
    for plan in TreatmentPlan.objects.filter(
        patient__in=patients, status__in=["active", "completed"]
    ).select_related("patient"):
        planned_patients.add(plan.patient_id)
        _demo_plan_history(batch, rng, plan, users, definitions, today, protocols)
    for index, patient in enumerate(patients):
        if patient.pk not in planned_patients:
            _intake_answers(batch, rng, patient, index, users, definitions)
    _half_done_questionnaire(batch, patients, definitions)
    with transaction.atomic():
        batch.write()
        trail.record(
            action=HISTORY_MARKER,
            actor_username="demo",
            detail={"responses": len(batch.responses), "sessions": len(batch.sessions)},
        )
        for plan in TreatmentPlan.objects.filter(patient__in=patients, status="active"):
            services.tasks_sync(plan)
    return len(batch.responses)


def _intake_answers(batch: Batch, rng, patient: Patient, index: int, users, definitions) -> None:
    """A patient without a plan: intake questionnaires of their indication, once or twice.

    The fourth patient answered a PHQ-9 item 9 five hours ago (on the worklist, by phone).
    """
    indication = next((d.indication for d in patient.diagnoses.all() if d.indication), "trd")
    codes = [
        c
        for c in schedule.shipped_policy().instruments_for(indication)
        if c in definitions and definitions[c].rater == "patient"
    ]
    for k, code in enumerate(codes):
        scale = SCALES[code]
        for weeks_ago in (5, 2) if index % 3 == 0 else (3,):
            total = max(scale.baseline_min, round(rng.gauss(scale.baseline_mean, 2)))
            flagged = code == "phq9" and index == 3 and weeks_ago == 2
            values, result = answers_for(code, total, flagged, rng)
            when = timezone.now() - dt.timedelta(days=weeks_ago * 7, hours=k)
            if flagged:
                when = timezone.now() - dt.timedelta(hours=5)
            channel = Channel.PHONE if flagged else Channel.PORTAL if index % 2 else Channel.PAPER
            response = completed_response(
                patient,
                definitions[code],
                values,
                result,
                channel=channel,
                entered_by=users["nurse"],
                submitted=when,
            )
            batch.responses.append(response)
            if result.flags:
                prescriber = services.care_team_prescriber(patient) or users["prescriber"]
                batch.flagged.append((response, prescriber, True))


def _half_done_questionnaire(batch: Batch, patients: list[Patient], definitions) -> None:
    """One questionnaire left half done on the portal by demo patient DEMO0002."""
    second = next((p for p in patients if p.mrn == "DEMO0002"), None)
    if second is None:
        return
    batch.responses.append(
        Response(
            patient=second,
            instrument=definitions["phq9"],
            instrument_version=definitions["phq9"].version,
            answers=[1, 2, 1, None, None, None, None, None, None],
            status=ResponseStatus.IN_PROGRESS,
            channel=Channel.PORTAL,
            started_at=timezone.now() - dt.timedelta(days=1),
            updated_at=timezone.now() - dt.timedelta(days=1),
        )
    )


def _demo_plan_history(batch, rng, plan, users, definitions, today, protocols) -> None:
    """Sessions (if none are charted) and questionnaires for one demo plan."""
    from ketaclinic.charting.models import TreatmentSession

    planned = list(plan.planned_sessions.order_by("number"))
    nurse = users["nurse"]
    if not TreatmentSession.objects.filter(plan=plan).exists():
        for s in planned:
            if s.date < today:
                batch.sessions.append(_demo_given_session(plan, s, nurse))
    course = [schedule.CourseSession(s.number, s.date, s.phase) for s in planned]
    if not course:
        course = _charted_course(plan)
    if course:
        _demo_plan_answers(batch, rng, plan, course, definitions, today, nurse)


def _demo_given_session(plan, planned, nurse: User):
    """A discharged session on a planned day (10:00, 40-minute dose, two hours in all)."""
    from ketaclinic.charting.models import TreatmentSession

    started = at_local(planned.date, 10, 0)
    return TreatmentSession(
        patient=plan.patient,
        plan=plan,
        session_number=planned.number,
        route=plan.route,
        protocol_code=plan.protocol.code,
        drug="racemic ketamine" if plan.route != "esketamine" else "esketamine",
        planned_dose_mg=plan.dose_mg,
        planned_rate_mg_per_min=plan.rate_mg_per_min,
        planned_minutes=plan.infusion_minutes,
        status="discharged",
        nurse=nurse,
        prescriber_on_site=plan.signed_by,
        opened_at=started - dt.timedelta(minutes=30),
        dose_started_at=started,
        dose_ended_at=started + dt.timedelta(minutes=40),
        discharged_at=started + dt.timedelta(hours=2),
    )


def _charted_course(plan) -> list:
    """A course the prescriber dated by hand (IM, sublingual): the sessions charted."""
    from ketaclinic.charting.models import TreatmentSession

    charted = TreatmentSession.objects.filter(plan=plan, dose_started_at__isnull=False)
    return [
        schedule.CourseSession(
            s.session_number or n, timezone.localdate(s.dose_started_at), "induction"
        )
        for n, s in enumerate(charted.order_by("dose_started_at"), start=1)
    ]


def _demo_plan_answers(batch, rng, plan, course, definitions, today, nurse) -> None:
    """The plan's questionnaires on the schedule's days, improving towards a response."""
    policy = schedule.shipped_policy()
    codes = [c for c in policy.instruments_for(plan.indication) if c in definitions]
    codes = [c for c in codes if definitions[c].rater == "patient"][:2]
    start = course[0].on
    end_day = (course[-1].on - start).days + 1
    for code in codes:
        scale = SCALES[code]
        baseline = max(scale.baseline_min, round(scale.baseline_mean + 2))
        end = max(scale.low, response_line(scale, baseline) - 2)
        for measure in schedule.measures_due(course, [code], policy):
            day = measure.opens_on if measure.reason != schedule.BASELINE else measure.due_on
            if day >= today:
                continue
            offset = (day - start).days
            total = baseline if offset <= 0 else level(scale, baseline, end, offset, end_day, rng)
            values, result = answers_for(code, total, False, rng)
            channel = Channel.PORTAL if measure.reason != schedule.BASELINE else Channel.PAPER
            batch.responses.append(
                completed_response(
                    plan.patient,
                    definitions[code],
                    values,
                    result,
                    channel=channel,
                    entered_by=nurse,
                    submitted=at_local(day, 8, 30),
                    plan=plan,
                )
            )
