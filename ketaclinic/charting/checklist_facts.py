"""What the record says about each pre-session checklist item, on the session's day.

The pure gate (``checklist.py``) decides from plain facts; this module reads them: the
plan's screening (signed, valid, not stale), the newest weight, the patient's preparation
confirmation, the readings before dosing, the consent on file, today's PHQ-9 and, for
esketamine, the REMS enrolment and setting certification. Facts that later apps hold (today's
PHQ-9 is the outcomes app's) are registered here by those apps in their ``AppConfig.ready()``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence

from django.db.models import Q
from django.utils import timezone

from ketaclinic.intake import consent_services
from ketaclinic.patients.models import Sex
from ketaclinic.protocols import catalog as protocol_catalog
from ketaclinic.scheduling.preparation import instructions
from ketaclinic.screening import services as screening_services
from ketaclinic.screening import validity

from . import checklist as gate_rules
from . import safety
from .models import RemsEnrollment, SettingCertification, TreatmentSession, VitalReading
from .session_service import final, local_time, name_of, now, session_day
from .vitals_service import clinic_limits, clinic_policy, reading_text, to_pure

#: Whether a patient completed a questionnaire on a clinic-local day, by source name.
PatientDone = Callable[[object, dt.date], bool]
_fact_sources: dict[str, PatientDone] = {}

MEASURED = {
    "systolic_mmhg": "blood pressure",
    "diastolic_mmhg": "blood pressure",
    "heart_rate_bpm": "heart rate",
    "spo2_pct": "SpO2",
    "resp_rate_per_min": "respiratory rate",
    "temperature_c": "temperature",
}


def register_fact_source(name: str, source: PatientDone) -> None:
    """A later app supplies a fact the checklist reads (outcomes: ``"phq9"``, done today)."""
    _fact_sources[name] = source


def checklist_facts(
    session: TreatmentSession,
    *,
    readings: Sequence[VitalReading] | None = None,
    checklist: gate_rules.Checklist = gate_rules.DEFAULT_CHECKLIST,
) -> gate_rules.Facts:
    """What the record says about each checklist item on the session's day.

    Reads the plan's screening (signed, valid, not stale), the newest weight, the patient's
    preparation confirmation, the session's readings before dosing, today's PHQ-9 and, for
    esketamine, the REMS enrolment and setting certification.
    """
    day = session_day(session)
    if readings is None:
        readings = list(session.vitals.select_related("recorded_by").order_by("at", "id"))
    derived: dict[str, gate_rules.Derived] = {}
    derived.update(_screening_facts(session, day))
    if session.plan.dose_mg_per_kg is not None:
        derived["weight_current"] = _weight_fact(session, day)
    derived.update(_preparation_facts(session))
    derived["pre_treatment_vitals"] = _vitals_fact(
        session, readings, checklist.item("pre_treatment_vitals")
    )
    derived["phq9_today"] = _phq9_fact(session, day)
    derived["consent_on_file"] = _consent_fact(session)
    if session.route == "esketamine":
        derived.update(_rems_facts(session, day))
    return dataclasses.replace(checklist_conditions(session), derived=derived)


def checklist_conditions(session: TreatmentSession) -> gate_rules.Facts:
    """Which items are asked for this session (route and conditions), nothing derived."""
    return gate_rules.Facts(
        route=session.route,
        weight_based_dose=session.plan.dose_mg_per_kg is not None,
        pregnancy_relevant=session.patient.sex != Sex.MALE,
    )


# ---------------------------------------------------------------- screening and weight


def _screening_facts(session: TreatmentSession, day: dt.date) -> dict[str, gate_rules.Derived]:
    return {
        "screening_valid": _screening_valid(session, day),
        "no_new_contraindication": _screening_current(session, day),
    }


def _screening_valid(session: TreatmentSession, day: dt.date) -> gate_rules.Derived:
    screening = session.plan.screening
    signer, signed_at = name_of(screening.signed_by), screening.signed_at
    if not screening.signed_eligible:
        return gate_rules.Derived(False, "the plan's screening is not signed eligible")
    if screening.expired_on(day):
        policy = validity.policy()
        return gate_rules.Derived(
            False,
            f"expired after {screening.valid_until:%Y-%m-%d} ({policy.valid_days} days; "
            f"{'; '.join(policy.sources)}): screen again",
            signer,
            signed_at,
        )
    return gate_rules.Derived(
        True,
        f"signed {screening.get_clinician_decision_display().lower()} on "
        f"{timezone.localdate(signed_at):%Y-%m-%d}, valid until {screening.valid_until:%Y-%m-%d}",
        signer,
        signed_at,
    )


def _screening_current(session: TreatmentSession, day: dt.date) -> gate_rules.Derived:
    """No new contraindication: the record still matches what the screening was signed on."""
    screening = session.plan.screening
    if not screening.is_signed:
        return gate_rules.Derived(False, "the screening is not signed")
    snapshot = screening_services.record_snapshot(session.patient, day)
    reasons = validity.stale_reasons(screening.fingerprint, snapshot.fingerprint)
    return gate_rules.Derived(
        not reasons,
        "; ".join(reasons) if reasons else "the record matches what the screening was signed on",
    )


def _weight_fact(session: TreatmentSession, day: dt.date) -> gate_rules.Derived:
    policy = protocol_catalog.catalog().dosing_policy
    weight = (
        session.patient.weights.valid()
        .filter(measured_on__lte=day)
        .select_related("recorded_by")
        .order_by("-measured_on", "-recorded_at")
        .first()
    )
    if weight is None:
        return gate_rules.Derived(False, "no weight on the record")
    age = (day - weight.measured_on).days
    detail = (
        f"{weight.weight_kg} kg measured {weight.measured_on:%Y-%m-%d} ({age} days old); "
        f"weight-based doses use a weight at most {policy.weight_max_age_days} days old "
        f"({'; '.join(policy.weight_max_age_sources)})"
    )
    if session.plan.weight_kg is not None and weight.weight_kg != session.plan.weight_kg:
        detail += f"; the plan's dose was computed on {session.plan.weight_kg} kg"
    return gate_rules.Derived(
        age <= policy.weight_max_age_days, detail, name_of(weight.recorded_by), weight.recorded_at
    )


# ---------------------------------------------------------------- preparation and consent


def fasting_rule(session: TreatmentSession) -> str:
    """The protocol's fasting rule in words, with its source, for the nurse to ask about."""
    found = [
        i.text
        for i in instructions(session.protocol_code)
        if i.text.startswith(("Do not eat", "Do not drink", "Use any nasal"))
    ]
    return " ".join(found) or "The protocol sets no fasting rule: the clinic's own rule applies."


def _preparation_facts(session: TreatmentSession) -> dict[str, gate_rules.Derived]:
    appointment = session.appointment
    preparation = getattr(appointment, "preparation", None) if appointment else None
    rule = fasting_rule(session)
    if preparation is None:
        return {
            "fasting_confirmed": gate_rules.Derived(None, f"ask the patient: {rule}"),
            "ride_home_confirmed": gate_rules.Derived(None, "ask who takes the patient home"),
        }
    via = f"the patient ({preparation.via.replace('_', ' ')})"
    at = preparation.confirmed_at
    return {
        "fasting_confirmed": gate_rules.Derived(
            True if preparation.fasting_understood else None,
            f"patient confirmed the fasting instructions: {rule}"
            if preparation.fasting_understood
            else f"the patient did not confirm fasting; ask: {rule}",
            via,
            at,
        ),
        "ride_home_confirmed": gate_rules.Derived(
            True if preparation.ride_arranged else None,
            "patient confirmed a ride home"
            if preparation.ride_arranged
            else "the patient did not confirm a ride home; ask",
            via,
            at,
        ),
    }


def _consent_fact(session: TreatmentSession) -> gate_rules.Derived:
    """The patient's signature on the current version of this route's consent document."""
    found = consent_services.consent_on_file(session.patient, session.route)
    return gate_rules.Derived(found.met, found.detail, found.by, found.at)


# ---------------------------------------------------------------- readings and questionnaires


def _vitals_fact(
    session: TreatmentSession, readings: Sequence[VitalReading], item: gate_rules.ChecklistItem
) -> gate_rules.Derived:
    before = session.dose_started_at or now()
    taken = [row for row in final(readings) if row.at <= before]
    complete = [r for r in taken if all(getattr(r, name) is not None for name in item.requires)]
    if not complete:
        needed = " and ".join(dict.fromkeys(MEASURED.get(name, name) for name in item.requires))
        return gate_rules.Derived(None, f"no {needed} reading before dosing yet")
    newest = complete[-1]
    taker = name_of(newest.recorded_by) or newest.get_source_display()
    pure = [to_pure(session, row) for row in taken]
    critical = [
        a for a in safety.evaluate(pure, clinic_policy(), clinic_limits()) if a.level == "critical"
    ]
    if critical:
        return gate_rules.Derived(
            False,
            "critical alert in force: " + "; ".join(a.message for a in critical),
            taker,
            newest.at,
        )
    return gate_rules.Derived(
        True,
        f"{reading_text(newest)} at {local_time(newest.at)}, no critical alert",
        taker,
        newest.at,
    )


def _phq9_fact(session: TreatmentSession, day: dt.date) -> gate_rules.Derived:
    done_today = _fact_sources.get("phq9")
    if done_today is None:
        return gate_rules.Derived(None, "questionnaires are not available here: confirm by hand")
    if done_today(session.patient, day):
        return gate_rules.Derived(True, "PHQ-9 completed today", "the patient")
    return gate_rules.Derived(
        None, "no PHQ-9 completed today: the patient completes it, or confirm a paper one"
    )


# ---------------------------------------------------------------- Spravato REMS


def _rems_facts(session: TreatmentSession, day: dt.date) -> dict[str, gate_rules.Derived]:
    return {
        "rems_patient_enrolled": _rems_enrolment(session, day),
        "rems_setting_certified": _rems_certification(day),
    }


def _rems_enrolment(session: TreatmentSession, day: dt.date) -> gate_rules.Derived:
    enrolment = RemsEnrollment.objects.filter(patient_id=session.patient_id).first()
    if enrolment is None:
        return gate_rules.Derived(False, "no Spravato REMS enrolment on the record")
    if enrolment.enrolled_on > day:
        return gate_rules.Derived(False, f"enrolled only from {enrolment.enrolled_on:%Y-%m-%d}")
    return gate_rules.Derived(
        True,
        f"REMS patient ID {enrolment.rems_patient_id}, enrolled {enrolment.enrolled_on:%Y-%m-%d}",
        at=enrolment.recorded_at,
    )


def _rems_certification(day: dt.date) -> gate_rules.Derived:
    certificate = (
        SettingCertification.objects.filter(certified_on__lte=day)
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=day))
        .first()
    )
    if certificate is None:
        return gate_rules.Derived(False, "no current REMS setting certification on record")
    until = f", expires {certificate.expires_on:%Y-%m-%d}" if certificate.expires_on else ""
    return gate_rules.Derived(
        True,
        f"certificate {certificate.certificate_id} from {certificate.certified_on:%Y-%m-%d}{until}",
        at=certificate.recorded_at,
    )
