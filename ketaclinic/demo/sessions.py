"""Demo treatment sessions for every route (issue #5), charted through the real services.

Called from ``clinic.load()`` inside its transaction, after the demo plans. Each signed
plan's course is booked through the front desk's "Book this course" the hour after signing
(``demo/desk.py``), each visit checked in on its own day, and every planned session that is
over by now is charted as a nurse would: checklist, product and lot,
infusion (one with a rate change after a high blood pressure alert that was acknowledged),
vitals on the protocol's schedule, dissociation, a side effect, discharge with written
instructions, and the therapist's integration note. Two more patients get an IM course and an
esketamine course (REMS enrolment and setting certification, devices with one rest warning, a
REMS-reportable adverse event). If the clinic is open now, the active IV plan's patient also
has a checked-in visit today, ready for "Open session".

Patients DEMO0001-DEMO0010 stay untouched (as in ``demo/plans.py``); a small demo has no
sessions. Loading twice changes nothing: a ``demo.load_sessions`` audit row marks it loaded.
Everything is written through charting's session services, so the demo never shows what the app
would refuse; times are set in the past on the planned days. Each dose is drawn from a lot
the inventory received, its unused rest wasted before a witness (``demo/stock.py``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.audit import trail
from ketaclinic.audit.models import AuditEvent
from ketaclinic.charting import (
    administration_service,
    checklist_service,
    discharge_service,
    dose_service,
    medication_service,
    observation_service,
    safety,
    session_service,
    vitals_service,
)
from ketaclinic.charting.models import (
    RemsEnrollment,
    SettingCertification,
    TreatmentSession,
)
from ketaclinic.demo import desk, stock
from ketaclinic.demo import plans as demo_plans
from ketaclinic.inventory.models import LedgerEntry
from ketaclinic.patients.models import Patient
from ketaclinic.plans import schedule
from ketaclinic.plans import services as plan_services
from ketaclinic.plans.models import PlannedSession, PlanStatus, TreatmentPlan
from ketaclinic.protocols import dosing
from ketaclinic.protocols.models import Protocol
from ketaclinic.scheduling import services as scheduling_services
from ketaclinic.scheduling import slots
from ketaclinic.scheduling.models import (
    Appointment,
    Status,
    clinic_datetime,
)
from ketaclinic.screening import services as screening_services
from ketaclinic.screening import validity
from ketaclinic.screening.models import Screening, ScreeningStatus

MARKER = "demo.load_sessions"
SEED = 55
NORMAL = {"systolic_mmhg": 126, "diastolic_mmhg": 80, "heart_rate_bpm": 74, "spo2_pct": 98}
CLINIC_LINE = "the clinic's after-hours line (demo: 860-555-0100); emergencies 911"
ALL_CRITERIA = True
# From a visit's start to its last charted entry (esketamine: 15 min + 2 h observation).
CHARTED_SPAN = dt.timedelta(hours=3)


def load(users: dict[str, User]) -> dict[str, list[str]]:
    """Chart the demo sessions once; which MRNs got which route (empty on a rerun)."""
    if AuditEvent.objects.filter(action=MARKER).exists():
        return {}
    candidates = list(
        Patient.objects.filter(mrn__startswith="DEMO")
        .exclude(mrn__lt=f"DEMO{demo_plans.FIRST_CANDIDATE:04d}")
        .order_by("mrn")
    )
    if not candidates:
        return {}
    rng = random.Random(SEED)
    charted: dict[str, list[str]] = {"iv": [], "im": [], "esketamine": []}
    iv_plans = TreatmentPlan.objects.filter(
        patient__in=candidates, route="iv", status=PlanStatus.ACTIVE
    ).order_by("signed_at", "pk")
    for plan in iv_plans:
        if plan.treatment_sessions.exists():
            continue
        desk.book_course(plan, users, now=plan.signed_at + dt.timedelta(hours=1))
        for variant, planned in enumerate(given(plan)):
            session = open_on(plan, planned.number, planned.date, users, rng)
            chart_iv(session, users, variant)
        finish_if_over(plan, users)
        charted["iv"].append(plan.patient.mrn)
    unscreened = [p for p in candidates if not p.screenings.exists()]
    im_patient = pick(unscreened, demo_plans.fits_iv_any)
    if im_patient is not None:
        chart_im_course(im_patient, users, rng)
        charted["im"].append(im_patient.mrn)
        unscreened.remove(im_patient)
    esketamine_patient = pick(unscreened, demo_plans.fits_esketamine_trd)
    if esketamine_patient is not None:
        chart_esketamine_course(esketamine_patient, users, rng)
        charted["esketamine"].append(esketamine_patient.mrn)
    active_iv = (
        TreatmentPlan.objects.filter(patient__in=candidates, route="iv", status=PlanStatus.ACTIVE)
        .order_by("signed_at", "pk")
        .first()
    )
    if active_iv is not None:
        visit = todays_visit(active_iv, users, rng)
        if visit is not None:
            charted["today"] = [f"{active_iv.patient.mrn} visit {visit.pk}"]
    stock.count_all(users)
    trail.record(action=MARKER, actor_username="demo", detail={"charted": charted})
    return charted


def today() -> dt.date:
    return timezone.localdate()


def pick(patients: list[Patient], fits) -> Patient | None:
    return next(
        (p for p in patients if fits(p, screening_services.record_snapshot(p))),
        None,
    )


def request_of(user: User) -> demo_plans.DemoRequest:
    return demo_plans.DemoRequest(user)


# --- Opening a session on a past day ---------------------------------------------------------


def course_visit(plan, number: int) -> Appointment | None:
    """The booked visit of the plan's session ``number`` (its course was booked from the plan)."""
    return (
        Appointment.objects.filter(
            patient=plan.patient, course_key=scheduling_services.plan_course_key(plan)
        )
        .filter(course_number=number)
        .holding()
        .select_related("type", "chair", "staff")
        .first()
    )


def given(plan: TreatmentPlan) -> list[PlannedSession]:
    """The planned sessions whose visit is over by now (its whole chart lies in the past)."""
    over = []
    for planned in plan.planned_sessions.filter(date__lte=today()).order_by("number"):
        visit = course_visit(plan, planned.number)
        if planned.date < today() or (visit and visit.starts_at + CHARTED_SPAN <= timezone.now()):
            over.append(planned)
    return over


def open_on(plan, number: int, day: dt.date, users, rng, visit=None) -> TreatmentSession:
    """Check in the booked visit of session ``number`` on ``day`` and open its session."""
    visit = visit or course_visit(plan, number)
    if visit is None or timezone.localdate(visit.starts_at) != day:
        raise RuntimeError(f"demo plan {plan.pk}: session {number} is not booked on {day}")
    desk.check_in(visit, users)
    session = session_service.session_open(
        request=request_of(visit.staff or users["nurse"]), appointment=visit
    )
    TreatmentSession.objects.filter(pk=session.pk).update(opened_at=visit.starts_at)
    session.refresh_from_db()
    return session


def finish_if_over(plan: TreatmentPlan, users) -> None:
    """A course whose last planned session is past ends as completed, the day after it."""
    last = plan.planned_sessions.order_by("-number").first()
    if last is None or last.date >= today():
        return
    plan_services.plan_transition(
        request=request_of(users["prescriber"]),
        plan=plan,
        status=PlanStatus.COMPLETED,
        reason="Induction course completed; maintenance to be discussed.",
    )
    ended = clinic_datetime(last.date + dt.timedelta(days=1), dt.time(17, 0))
    TreatmentPlan.objects.filter(pk=plan.pk).update(ended_at=ended)


def minutes(moment: dt.datetime, count: float) -> dt.datetime:
    return moment + dt.timedelta(minutes=count)


def vitals(session, nurse, at, **values) -> list:
    _rows, alerts = vitals_service.vitals_enter(
        request=request_of(nurse), session=session, values=NORMAL | values, at=at
    )
    return alerts


def answer_checklist(session, nurse, prescriber, at) -> None:
    """What the nurse confirms on the day; the rest is read from the record."""
    notes = {
        "identity_confirmed": "Name and date of birth, wristband",
        "pregnancy_status": "Not pregnant, not breastfeeding (patient)",
        "phq9_today": "Paper PHQ-9 completed in the waiting room",
        "consent_on_file": "Signed consent in the record",
        "fasting_confirmed": "Asked at check-in",
        "ride_home_confirmed": "Partner waiting",
    }
    for state in checklist_service.checklist_states(session):
        if not state.blocking:
            continue
        if not state.item.attestable:
            raise RuntimeError(f"demo session {session.pk}: {state.code} blocks ({state.detail})")
        checklist_service.checklist_record(
            request=request_of(nurse),
            session=session,
            code=state.code,
            outcome="passed",
            note=notes.get(state.code, f"{session.planned_dose_mg} mg checked against the plan"),
            second_checker=prescriber if state.item.second_checker else None,
            **second_checker_password(state.item.second_checker),
            at=at,
        )


def second_checker_password(needed: bool) -> dict:
    """The second clinician types their own password (the demo's, for every login)."""
    from ketaclinic.demo.clinic import DEMO_PASSWORD

    return {"second_checker_password": DEMO_PASSWORD} if needed else {}


def record_product(session, nurse, day: dt.date, users) -> LedgerEntry:
    """The product and lot on the label, then the dose drawn from that lot's stock."""
    lot = stock.lot_for(session, users, day)
    medication_service.product_record(
        request=request_of(nurse),
        session=session,
        product=lot.product,
        concentration_mg_per_ml=None if lot.drug == "esketamine" else lot.mg_per_ml,
        lot_number=lot.lot_number,
        lot_expiry=lot.expires_on,
    )
    return stock.draw_for(session, lot, session.opened_at + dt.timedelta(minutes=9))


def discharge(session, nurse, at) -> None:
    discharge_service.discharge_sign(
        request=request_of(nurse),
        session=session,
        criteria=dict.fromkeys(
            (c.code for c in safety.DEFAULT_DISCHARGE.criteria_for(session.route)),
            ALL_CRITERIA,
        ),
        whom_to_call=CLINIC_LINE,
        at=at,
    )
    session.refresh_from_db()


def integration_note(session, users, text: str) -> None:
    day_after = timezone.localdate(session.discharged_at) + dt.timedelta(days=1)
    at = clinic_datetime(day_after, dt.time(15, 0))
    if at <= timezone.now():
        discharge_service.integration_note_write(
            request=request_of(users["therapist"]), session=session, note=text, at=at
        )


def acknowledge(*, request, session, alert, action_taken: str) -> None:
    """Acknowledge as the nurse did, a minute after the alert (the service stamps now)."""
    vitals_service.alert_acknowledge(
        request=request, session=session, alert=alert, action_taken=action_taken
    )
    type(alert).objects.filter(pk=alert.pk).update(
        acknowledged_at=alert.raised_at + dt.timedelta(minutes=1)
    )


# --- The routes ----------------------------------------------------------------------------


def chart_iv(session: TreatmentSession, users, variant: int) -> None:
    """An IV infusion: 40 min, vitals every 10 min during and 15 min after for an hour."""
    nurse, prescriber = session.nurse, users["prescriber"]
    request = request_of(nurse)
    drawn = _prepare_iv(session, users, variant)
    rate = session.planned_rate_mg_per_min  # the plan's dose over its minutes, rounded by dosing
    dose_service.session_start(
        request=request, session=session, at=minutes(session.opened_at, 15), rate_mg_per_min=rate
    )
    session.refresh_from_db()
    start = session.dose_started_at
    blood_pressure_event = variant == 2
    for minute in (1, 10, 20, 30, 40):
        if blood_pressure_event and minute == 30:
            _blood_pressure_event(session, nurse, rate)
        else:
            vitals(
                session,
                nurse,
                minutes(start, minute),
                systolic_mmhg=128 + minute // 5,
                diastolic_mmhg=82,
            )
    _iv_observations(session, variant, blood_pressure_event)
    administration_service.infusion_record(
        request=request, session=session, kind="stop", at=minutes(start, 40)
    )
    session.refresh_from_db()
    end = session.dose_ended_at
    stock.account_for(drawn, prescriber, minutes(end, 2))
    for minute in (15, 30, 45, 60):
        vitals(session, nurse, minutes(end, minute))
    observation_service.dissociation_record(
        request=request, session=session, score=0, at=minutes(end, 15)
    )
    discharge(session, nurse, minutes(end, 62))
    if variant in (0, 2):
        integration_note(
            session,
            users,
            "Integration session: talked through the imagery of the infusion and the sense of "
            "distance from low mood; agreed one small daily activity to practise before the "
            "next infusion.",
        )


def _prepare_iv(session: TreatmentSession, users, variant: int):
    """Baseline vitals, the checklist, the drug drawn, and (every other session) ondansetron."""
    nurse, prescriber = session.nurse, users["prescriber"]
    opened = session.opened_at
    vitals(session, nurse, minutes(opened, 5), heart_rate_bpm=78)
    answer_checklist(session, nurse, prescriber, minutes(opened, 8))
    drawn = record_product(session, nurse, timezone.localdate(opened), users)
    if variant % 2 == 0:
        medication_service.medication_give(
            request=request_of(nurse),
            session=session,
            kind="premedication",
            drug="Ondansetron",
            dose="4 mg",
            route="IV",
            reason="Anti-nausea premedication",
            at=minutes(opened, 10),
        )
    return drawn


def _blood_pressure_event(session: TreatmentSession, nurse: User, rate: Decimal) -> None:
    """At 30 min a high blood pressure: the alert acknowledged, the rate halved, a recheck."""
    request = request_of(nurse)
    start = session.dose_started_at
    (alert,) = vitals(
        session,
        nurse,
        minutes(start, 30),
        systolic_mmhg=186,
        diastolic_mmhg=108,
        heart_rate_bpm=96,
    )
    acknowledge(
        request=request,
        session=session,
        alert=alert,
        action_taken="Rechecked after 5 min (164/96); infusion rate halved; prescriber informed",
    )
    administration_service.infusion_record(
        request=request,
        session=session,
        kind="rate_change",
        rate_mg_per_min=(rate / 2).quantize(Decimal("0.01")),
        reason="BP 186/108 at 30 min (clinic policy: consider slowing)",
        at=minutes(start, 31),
    )
    vitals(
        session, nurse, minutes(start, 35), systolic_mmhg=164, diastolic_mmhg=96, heart_rate_bpm=90
    )


def _iv_observations(session: TreatmentSession, variant: int, blood_pressure_event: bool) -> None:
    """Dissociation at 20 min; nausea in some sessions; the raised blood pressure as charted."""
    request = request_of(session.nurse)
    start = session.dose_started_at
    observation_service.dissociation_record(
        request=request, session=session, score=3 + variant % 4, at=minutes(start, 20)
    )
    if variant % 3 == 1:
        observation_service.side_effect_record(
            request=request,
            session=session,
            code="nausea",
            severity="mild",
            action="Reassured; sips of water once alert",
            at=minutes(start, 25),
        )
    if blood_pressure_event:
        observation_service.side_effect_record(
            request=request,
            session=session,
            code="raised_blood_pressure",
            severity="moderate",
            action="Rate halved; rechecked every 5 min",
            at=minutes(start, 30),
        )


def chart_im(session: TreatmentSession, users, variant: int) -> None:
    """An IM injection; the reference sets no IM monitoring times, so vitals every 15 min."""
    nurse, prescriber = session.nurse, users["prescriber"]
    request = request_of(nurse)
    opened = session.opened_at
    vitals(session, nurse, minutes(opened, 5))
    answer_checklist(session, nurse, prescriber, minutes(opened, 8))
    drawn = record_product(session, nurse, timezone.localdate(opened), users)
    dose_service.session_start(request=request, session=session, at=minutes(opened, 15))
    session.refresh_from_db()
    start = session.dose_started_at
    administration_service.bolus_record(
        request=request, session=session, dose_mg=session.planned_dose_mg, at=minutes(start, 1)
    )
    dose_service.dose_end(request=request, session=session, at=minutes(start, 2))
    stock.account_for(drawn, prescriber, minutes(start, 3))
    for minute in (15, 30, 45, 60):
        vitals(session, nurse, minutes(start, minute), heart_rate_bpm=80 - minute // 15)
    observation_service.dissociation_record(
        request=request, session=session, score=4 - variant, at=minutes(start, 20)
    )
    observation_service.side_effect_record(
        request=request,
        session=session,
        code="dizziness",
        severity="mild",
        action="Stayed reclined; walked with help at 60 min",
        at=minutes(start, 30),
    )
    discharge(session, nurse, minutes(start, 65))


def chart_esketamine(session: TreatmentSession, users, variant: int) -> None:
    """Two devices, BP before dosing, at 40 min and before leaving; 2 h from the first device."""
    nurse, prescriber = session.nurse, users["prescriber"]
    request = request_of(nurse)
    opened = session.opened_at
    vitals(session, nurse, minutes(opened, 5), systolic_mmhg=122, diastolic_mmhg=78)
    answer_checklist(session, nurse, prescriber, minutes(opened, 8))
    drawn = record_product(session, nurse, timezone.localdate(opened), users)
    dose_service.session_start(
        request=request, session=session, at=minutes(opened, 15), prescriber_on_site=prescriber
    )
    session.refresh_from_db()
    start = session.dose_started_at
    gap = 4 if variant == 1 else 5  # one session with the second device a minute early
    administration_service.device_record(request=request, session=session, at=minutes(start, 0))
    administration_service.device_record(request=request, session=session, at=minutes(start, gap))
    dose_service.dose_end(request=request, session=session, at=minutes(start, gap + 1))
    stock.account_for(drawn, prescriber, minutes(start, gap + 2))
    first = start
    vitals(
        session, nurse, minutes(first, 40), systolic_mmhg=142, diastolic_mmhg=88, heart_rate_bpm=82
    )
    vitals(session, nurse, minutes(first, 80), systolic_mmhg=132, diastolic_mmhg=84)
    vitals(session, nurse, minutes(first, 121), systolic_mmhg=124, diastolic_mmhg=80)
    observation_service.dissociation_record(
        request=request, session=session, score=5, at=minutes(first, 20)
    )
    observation_service.dissociation_record(
        request=request, session=session, score=1, at=minutes(first, 60)
    )
    observation_service.side_effect_record(
        request=request,
        session=session,
        code="dissociation",
        severity="moderate",
        action="Eyes closed, music; settled by 60 min",
        at=minutes(first, 25),
    )
    if variant == 1:
        observation_service.adverse_event_record(
            request=request,
            session=session,
            serious=False,
            at=minutes(first, 35),
            description="Marked sedation at 35 min (rousable to voice), resolved by 75 min; "
            "SpO2 stayed 97-98%.",
        )
    discharge(session, nurse, minutes(first, 122))


# --- New courses for IM and esketamine --------------------------------------------------------


def historic_screening(patient, users, route: str, days_ago: int) -> Screening:
    at = timezone.now() - dt.timedelta(days=days_ago)
    snapshot = screening_services.record_snapshot(patient)
    answers = demo_plans._answers(route, demo_plans.indication_of(patient) or "trd", bp=(124, 78))
    answers["bp_measured_at"] = at
    result = screening_services.evaluate_for(snapshot, answers)
    if result.decision.value == "ineligible":
        raise ValueError(f"demo patient {patient.mrn} is not eligible for {route}")
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
        clinician_decision="eligible"
        if result.decision.value == "eligible"
        else ("eligible_with_reasoning"),
        reasoning=""
        if result.decision.value == "eligible"
        else ("Findings reviewed with the patient; extra monitoring after dosing."),
        valid_until=validity.last_valid_day(timezone.localdate(at)),
        created_by=users["nurse"],
        created_at=at,
    )


def working_days_back(days: int) -> dt.date:
    day = today() - dt.timedelta(days=days)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def chart_im_course(patient: Patient, users, rng) -> None:
    """A completed IM course: two injections a week apart, 0.5 mg/kg (Chilukuri 2014)."""
    signed_on = working_days_back(62)
    screening = historic_screening(patient, users, "im", (today() - signed_on).days + 1)
    weight = demo_plans._weight_on(patient, signed_on - dt.timedelta(days=1), users)
    protocol = Protocol.objects.get(code="im_racemic")
    dose = dosing.calculate_dose(
        protocol.rules(),
        weight_kg=weight.weight_kg,
        dose_mg_per_kg=Decimal("0.5"),
        weight_measured_on=weight.measured_on,
        today=signed_on,
    )
    signed_at = clinic_datetime(signed_on, dt.time(16, 0))
    plan = TreatmentPlan.objects.create(
        patient=patient,
        screening=screening,
        protocol=protocol,
        indication=screening.indication,
        route="im",
        status=PlanStatus.ACTIVE,
        dose_mg_per_kg=dose.dose_mg_per_kg,
        dose_mg=dose.dose_mg,
        weight_kg=weight.weight_kg,
        weight_measured_on=weight.measured_on,
        start_date=signed_on + dt.timedelta(days=1),
        working_weekdays=demo_plans.WEEKDAYS,
        psychotherapy_plan="Integration session with the therapist after each injection.",
        therapist=users["therapist"],
        created_by=users["prescriber"],
        created_at=signed_at - dt.timedelta(hours=1),
        signed_by=users["prescriber"],
        signed_at=signed_at,
    )
    # No schedule pattern for IM: the desk books each injection the prescriber dated.
    first = working_day_after(signed_on + dt.timedelta(days=2))
    kind = desk.treatment_type(plan)
    booked_at = signed_at + dt.timedelta(hours=1)
    visits = []
    for day in (first, working_day_after(first + dt.timedelta(days=7))):
        found = first_free(day, kind, rng)
        visit = desk.book_one(patient, kind, found.starts_at, users, now=booked_at)
        visits.append(visit)
    for number, visit in enumerate(visits, 1):
        session = open_on(plan, number, timezone.localdate(visit.starts_at), users, rng, visit)
        chart_im(session, users, number - 1)
    plan_services.plan_transition(
        request=request_of(users["prescriber"]),
        plan=plan,
        status=PlanStatus.COMPLETED,
        reason="Two injections given; the patient chose to continue with IV infusions.",
    )
    TreatmentPlan.objects.filter(pk=plan.pk).update(
        ended_at=visits[-1].starts_at + dt.timedelta(days=1)
    )


def first_free(day: dt.date, kind, rng, not_before: dt.datetime | None = None):
    """The first free placement on ``day`` from a random morning hour (or ``not_before``)."""
    picture = scheduling_services.availability(day, kind)
    wanted = not_before or clinic_datetime(day, dt.time(rng.choice([8, 9, 10]), 0))
    found = slots.first_placement(dataclasses.replace(picture, not_before=wanted))
    if isinstance(found, slots.NoPlacement):
        found = slots.first_placement(picture)
    if isinstance(found, slots.NoPlacement):
        raise RuntimeError(f"demo: no room for {kind.code} on {day}: {found.reason}")
    return found


def working_day_after(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def chart_esketamine_course(patient: Patient, users, rng) -> None:
    """An active esketamine course started a week ago: 56 mg, twice weekly (label)."""
    signed_on = working_days_back(9)
    screening = historic_screening(patient, users, "esketamine", (today() - signed_on).days + 1)
    demo_plans._weight_on(patient, signed_on - dt.timedelta(days=1), users)
    protocol = Protocol.objects.get(code="esketamine_trd")
    start = signed_on + dt.timedelta(days=1)
    course = schedule.propose_schedule(
        "esketamine_trd", start_date=start, working_weekdays=demo_plans.WEEKDAYS, horizon_weeks=16
    )
    signed_at = clinic_datetime(signed_on, dt.time(16, 0))
    plan = TreatmentPlan.objects.create(
        patient=patient,
        screening=screening,
        protocol=protocol,
        indication=screening.indication,
        route="esketamine",
        status=PlanStatus.ACTIVE,
        dose_mg=Decimal(56),
        devices=2,
        schedule_code="esketamine_trd",
        start_date=start,
        working_weekdays=demo_plans.WEEKDAYS,
        horizon_weeks=16,
        concurrent_oral_antidepressant="as on the record",
        psychotherapy_plan="Weekly integration therapy during induction.",
        therapist=users["therapist"],
        created_by=users["prescriber"],
        created_at=signed_at - dt.timedelta(hours=1),
        signed_by=users["prescriber"],
        signed_at=signed_at,
    )
    PlannedSession.objects.bulk_create(
        PlannedSession(plan=plan, number=s.number, date=s.date, phase=s.phase) for s in course
    )
    RemsEnrollment.objects.get_or_create(
        patient=patient,
        defaults={
            "rems_patient_id": f"DEMO-RP-{patient.mrn[-4:]}",
            "enrolled_on": signed_on,
            "recorded_by": users["prescriber"],
        },
    )
    SettingCertification.objects.get_or_create(
        certificate_id="DEMO-SETTING-0001",
        defaults={
            "certified_on": today() - dt.timedelta(days=200),
            "recorded_by": users["admin"],
        },
    )
    desk.book_course(plan, users, now=signed_at + dt.timedelta(hours=1))
    for variant, planned in enumerate(given(plan)):
        session = open_on(plan, planned.number, planned.date, users, rng)
        chart_esketamine(session, users, variant)


def todays_visit(plan: TreatmentPlan, users, rng) -> Appointment | None:
    """If the clinic is open now, the plan's next visit is brought forward to now and the
    patient checked in, ready for "Open session" (the patient asked for an earlier slot)."""
    now = timezone.now().replace(second=0, microsecond=0)
    visit = (
        Appointment.objects.filter(
            patient=plan.patient, course_key=scheduling_services.plan_course_key(plan)
        )
        .filter(status__in=[Status.SCHEDULED, Status.CONFIRMED], starts_at__gt=now)
        .order_by("starts_at")
        .first()
    )
    if visit is None:
        return None
    if timezone.localdate(visit.starts_at) != today():
        found = slots.first_placement(
            dataclasses.replace(
                scheduling_services.availability(
                    today(), visit.type, patient_id=plan.patient_id, ignoring=visit
                ),
                not_before=now + dt.timedelta(minutes=5),
            )
        )
        if isinstance(found, slots.NoPlacement):
            return None
        try:
            scheduling_services.appointment_move(
                request=request_of(users["frontdesk"]),
                appointment=visit,
                starts_at=found.starts_at,
                now=now,
            )
        except (scheduling_services.BookingConflict, ValidationError):
            return None
    desk.check_in(visit, users, at=now)
    return visit


def ready_iv_visit(patient: Patient, users: dict[str, User]) -> Appointment:
    """Make ``patient`` ready for an IV session now: signed screening, an active IV plan
    signed two days ago, and a visit checked in a few minutes ago with the patient's
    preparation confirmed (for people trying the demo, and the browser journey).

    The visit was booked the day the plan was signed; when the clinic is closed now (a night
    or a weekend) it is booked outside a chair, as the desk would for an extra session."""
    plan = demo_plans._historic_iv_plan(patient, users, days_ago=2, status=PlanStatus.ACTIVE)
    now = timezone.now().replace(second=0, microsecond=0)
    kind = desk.treatment_type(plan)
    booked = plan.signed_at + dt.timedelta(hours=1)
    picture = scheduling_services.availability(today(), kind, patient_id=patient.pk)
    found = slots.first_placement(
        dataclasses.replace(picture, not_before=now - dt.timedelta(minutes=15))
    )
    visit = None
    if not isinstance(found, slots.NoPlacement) and found.starts_at <= now + dt.timedelta(
        minutes=30
    ):
        try:
            visit = desk.book_one(patient, kind, found.starts_at, users, now=booked)
        except scheduling_services.BookingConflict:
            visit = None
    if visit is None:
        # Nothing else of the patient's may be open at the same time.
        for other in Appointment.objects.filter(patient=patient).overlapping(
            now - dt.timedelta(minutes=10), now + dt.timedelta(minutes=kind.minutes)
        ):
            desk.transition(
                other, Status.CANCELLED, users, now=now, reason="Replaced by today's infusion"
            )
        visit = Appointment.objects.create(
            patient=patient,
            type=kind,
            starts_at=now - dt.timedelta(minutes=10),
            ends_at=now + dt.timedelta(minutes=kind.minutes - 10),
            staff=users["nurse"],
            status=Status.SCHEDULED,
            course_number=1,
            created_by=users["frontdesk"],
            created_at=booked,
        )
    desk.check_in(visit, users, at=min(now, visit.starts_at))
    return visit
