"""Screening writes: evaluate answers against the record, sign, strike out. Each validates,
saves and audits in one transaction; a rejected write leaves an ``invalid`` audit row and
stores nothing (same conventions as ``patients/services.py``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketaclinic.accounts.permissions import can
from ketaclinic.audit import trail
from ketaclinic.audit.trail import reject
from ketaclinic.patients import vocabulary as record_vocabulary
from ketaclinic.patients.models import EntryStatus, Patient

from . import derivation, rules, validity
from .models import (
    ELIGIBLE_DECISIONS,
    ClinicianDecision,
    EngineDecision,
    Screening,
    ScreeningStatus,
)

ANSWER_FIELDS = [
    "route",
    "indication",
    "reported_findings",
    "systolic_mmhg",
    "diastolic_mmhg",
    "bp_measured_at",
    "oral_antidepressant",
]
# The engine's input names, as the stateful API and forms call them.
ENGINE_FIELDS = {
    "findings": "reported_findings",
    "adequate_antidepressant_trials": "adequate_trials",
}


@dataclass(frozen=True)
class RecordSnapshot:
    """What the record says today that the rules read."""

    facts: validity.RecordFacts
    derived: dict[str, derivation.DerivedFinding]
    oral_antidepressants: tuple[str, ...]

    @property
    def fingerprint(self) -> dict[str, Any]:
        return validity.fingerprint(self.facts)


def record_snapshot(patient: Patient, today: dt.date | None = None) -> RecordSnapshot:
    """Derived facts from the record (3 queries): diagnoses, medications, adequate trials."""
    today = today or timezone.localdate()
    diagnoses = [
        (code, _display(code))
        for code in patient.diagnoses.filter(status=EntryStatus.ACTIVE).values_list(
            "icd10_code", flat=True
        )
    ]
    medications = list(
        patient.medications.filter(status=EntryStatus.ACTIVE).values_list("name", "drug_class")
    )
    trials = patient.antidepressant_trials.valid().filter(adequate=True).count()
    derived = derivation.derive_findings(diagnoses=diagnoses, medications=medications)
    on_record = derivation.oral_antidepressants(medications)
    facts = validity.RecordFacts(
        age_years=patient.age_on(today),
        adequate_trials=trials,
        derived_codes=frozenset(derived),
        oral_antidepressant_on_record=bool(on_record),
    )
    return RecordSnapshot(facts, derived, on_record)


def _display(icd10: str) -> str:
    entry = record_vocabulary.icd10_codes().get(icd10)
    return entry.display if entry else ""


# --- Evaluating ---------------------------------------------------------------------------


def _clean_answers(answers: dict[str, Any], snapshot: RecordSnapshot) -> dict[str, Any]:
    unknown = set(answers) - set(ANSWER_FIELDS)
    if unknown:
        raise ValidationError({name: "Not a screening answer." for name in sorted(unknown)})
    reported = answers.get("reported_findings") or []
    if isinstance(reported, str) or not isinstance(reported, list | tuple):
        raise ValidationError({"reported_findings": "A list of finding codes."})
    cleaned = {name: answers.get(name) for name in ANSWER_FIELDS}
    # What the record states is taken from the record; reporting it again adds nothing.
    cleaned["reported_findings"] = [
        code for code in dict.fromkeys(reported) if code not in snapshot.derived
    ]
    has_bp = cleaned["systolic_mmhg"] is not None or cleaned["diastolic_mmhg"] is not None
    if has_bp and cleaned["bp_measured_at"] is None:
        cleaned["bp_measured_at"] = timezone.now()
    if not has_bp:
        cleaned["bp_measured_at"] = None
    measured = cleaned["bp_measured_at"]
    if measured is not None and measured > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({"bp_measured_at": "A blood pressure cannot be measured later."})
    return cleaned


def evaluate_for(snapshot: RecordSnapshot, answers: dict[str, Any]) -> rules.ScreeningResult:
    """Run the pure engine on the form's answers and the record's facts."""
    oral = answers["oral_antidepressant"]
    if oral is None and snapshot.facts.oral_antidepressant_on_record:
        oral = True
    try:
        return rules.evaluate(
            route=answers["route"],
            indication=answers["indication"],
            age_years=snapshot.facts.age_years,
            adequate_antidepressant_trials=snapshot.facts.adequate_trials,
            findings=[*snapshot.derived, *answers["reported_findings"]],
            systolic_mmhg=answers["systolic_mmhg"],
            diastolic_mmhg=answers["diastolic_mmhg"],
            oral_antidepressant=oral,
        )
    except rules.ScreeningInputError as error:
        raise ValidationError(
            {ENGINE_FIELDS.get(error.field, error.field): error.message}
        ) from None


def _apply(screening: Screening, answers: dict, snapshot: RecordSnapshot, result, request) -> None:
    for name, value in answers.items():
        setattr(screening, name, value)
    screening.answered_by = request.user
    screening.answered_at = timezone.now()
    screening.age_years = snapshot.facts.age_years
    screening.adequate_trials = snapshot.facts.adequate_trials
    screening.derived_findings = [item.as_dict() for item in snapshot.derived.values()]
    screening.oral_antidepressants_on_record = list(snapshot.oral_antidepressants)
    screening.engine_decision = result.decision.value
    screening.engine_findings = result.as_dict()["findings"]
    screening.evaluated_at = timezone.now()
    screening.fingerprint = snapshot.fingerprint


def _summary(screening: Screening) -> dict[str, Any]:
    return {
        "route": screening.route,
        "indication": screening.indication,
        "reported_findings": screening.reported_findings,
        "derived_findings": screening.derived_codes,
        "systolic_mmhg": screening.systolic_mmhg,
        "diastolic_mmhg": screening.diastolic_mmhg,
        "oral_antidepressant": screening.oral_antidepressant,
        "age_years": screening.age_years,
        "adequate_trials": screening.adequate_trials,
        "engine_decision": screening.engine_decision,
    }


def screening_create(*, request, patient: Patient, answers: dict[str, Any]) -> Screening:
    """Evaluate the answers with the record's facts and store a draft screening."""
    snapshot = record_snapshot(patient)
    try:
        cleaned = _clean_answers(answers, snapshot)
        result = evaluate_for(snapshot, cleaned)
    except ValidationError as error:
        reject(request, "screening.create", error, patient.pk)
    screening = Screening(patient=patient, created_by=request.user)
    _apply(screening, cleaned, snapshot, result, request)
    with transaction.atomic():
        screening.save(force_insert=True)
        trail.record(
            action="screening.create",
            request=request,
            patient=patient,
            target=screening,
            detail=_summary(screening),
        )
    return screening


def screening_update(*, request, screening: Screening, answers: dict[str, Any]) -> Screening:
    """Change a draft's answers and evaluate again; old and new answers go to the trail."""
    if not screening.is_draft:
        reject(
            request,
            "screening.change",
            ValidationError({"status": "Only a draft screening can be changed."}),
            screening.patient_id,
        )
    snapshot = record_snapshot(screening.patient)
    try:
        cleaned = _clean_answers(answers, snapshot)
        result = evaluate_for(snapshot, cleaned)
    except ValidationError as error:
        reject(request, "screening.change", error, screening.patient_id)
    before = _summary(screening)
    _apply(screening, cleaned, snapshot, result, request)
    after = _summary(screening)
    with transaction.atomic():
        locked = Screening.objects.select_for_update().get(pk=screening.pk)
        if locked.status != ScreeningStatus.DRAFT:
            screening.refresh_from_db()
            reject(
                request,
                "screening.change",
                ValidationError({"status": "Only a draft screening can be changed."}),
                screening.patient_id,
            )
        screening.save()
        trail.record(
            action="screening.change",
            request=request,
            patient_id=screening.patient_id,
            target=screening,
            detail={"changes": {k: [before[k], after[k]] for k in before if before[k] != after[k]}},
        )
    return screening


# --- Signing ------------------------------------------------------------------------------


def _decision_errors(screening: Screening, decision: str, reasoning: str) -> dict[str, str]:
    if decision not in ClinicianDecision.values:
        return {
            "clinician_decision": f"Choose one of {', '.join(ClinicianDecision.values)}, "
            f"not {decision!r}."
        }
    engine = screening.engine_decision
    if engine == EngineDecision.INELIGIBLE and decision in ELIGIBLE_DECISIONS:
        excluded = [f["code"] for f in screening.engine_findings if f["severity"] == "exclude"]
        return {
            "clinician_decision": "The screening found an exclusion "
            f"({', '.join(excluded)}); a clinician cannot sign it eligible. Sign not "
            "eligible, or correct the record or the answers and evaluate again."
        }
    needs_reasoning = decision == ClinicianDecision.ELIGIBLE_WITH_REASONING or (
        engine == EngineDecision.NEEDS_REVIEW and decision == ClinicianDecision.ELIGIBLE
    )
    if needs_reasoning and not reasoning:
        cautions = [f["code"] for f in screening.engine_findings if f["severity"] == "caution"]
        why = f" ({', '.join(cautions)})" if cautions else ""
        return {
            "reasoning": f"Findings need review{why}: document the reasoning for signing eligible."
        }
    return {}


def screening_sign(
    *, request, screening: Screening, decision: str, reasoning: str = ""
) -> Screening:
    """A prescriber signs the screening's decision. Never over an exclusion; with reasoning
    when findings need review; refused if the record changed since it was evaluated."""
    reasoning = (reasoning or "").strip()
    snapshot = _signable_snapshot(request, screening, decision, reasoning)
    if decision == ClinicianDecision.ELIGIBLE and reasoning:
        decision = ClinicianDecision.ELIGIBLE_WITH_REASONING
    with transaction.atomic():
        locked = Screening.objects.select_for_update().get(pk=screening.pk)
        if locked.status != ScreeningStatus.DRAFT:
            reject(
                request,
                "screening.sign",
                ValidationError({"status": "Someone else signed or struck out this screening."}),
                screening.patient_id,
            )
        _write_signature(request, screening, decision, reasoning, snapshot)
    return screening


def _signable_snapshot(
    request, screening: Screening, decision: str, reasoning: str
) -> RecordSnapshot:
    """The record as it is now, if this prescriber may sign this decision on it; else refused.

    Refused when the signer is not a prescriber, the screening is no longer a draft, the
    decision does not fit the findings, or the record changed since the evaluation.
    """
    action = "screening.sign"
    if not can(request.user, "screening.sign"):
        reject(
            request,
            action,
            ValidationError({"signed_by": "Only a prescriber signs a screening."}),
            screening.patient_id,
        )
    if not screening.is_draft:
        reject(
            request,
            action,
            ValidationError({"status": f"This screening is {screening.status}, not a draft."}),
            screening.patient_id,
        )
    errors = _decision_errors(screening, decision, reasoning)
    if errors:
        reject(request, action, ValidationError(errors), screening.patient_id)
    snapshot = record_snapshot(screening.patient)
    changed = validity.stale_reasons(screening.fingerprint, snapshot.fingerprint)
    if changed:
        reject(
            request,
            action,
            ValidationError(
                {
                    "screening": "The record changed since this screening was evaluated ("
                    + "; ".join(changed)
                    + "): evaluate it again before signing."
                }
            ),
            screening.patient_id,
        )
    return snapshot


def _write_signature(
    request, screening: Screening, decision: str, reasoning: str, snapshot: RecordSnapshot
) -> None:
    """Save the signature with the record's fingerprint and validity, and audit it."""
    screening.status = ScreeningStatus.SIGNED
    screening.signed_by = request.user
    screening.signed_at = timezone.now()
    screening.clinician_decision = decision
    screening.reasoning = reasoning
    screening.fingerprint = snapshot.fingerprint
    screening.valid_until = validity.last_valid_day(timezone.localdate())
    screening.save(
        update_fields=[
            "status",
            "signed_by",
            "signed_at",
            "clinician_decision",
            "reasoning",
            "fingerprint",
            "valid_until",
        ]
    )
    trail.record(
        action="screening.sign",
        request=request,
        patient_id=screening.patient_id,
        target=screening,
        detail={
            "status": [ScreeningStatus.DRAFT, ScreeningStatus.SIGNED],
            "engine_decision": screening.engine_decision,
            "clinician_decision": decision,
            "reasoning": reasoning,
            "valid_until": screening.valid_until,
            "fingerprint": screening.fingerprint,
        },
    )


def screening_mark_in_error(*, request, screening: Screening, reason: str) -> None:
    """Strike a screening out; it stays on the record, marked. Not one a plan rests on."""
    action = "screening.entered_in_error"
    reason = (reason or "").strip()
    if not reason:
        reject(
            request,
            action,
            ValidationError({"reason": "Say why the screening is wrong."}),
            screening.patient_id,
        )
    if screening.in_error:
        return
    if screening.plans.valid().exists():  # plans not entered in error
        reject(
            request,
            action,
            ValidationError(
                {
                    "screening": "A treatment plan rests on this screening; strike out the plan first."
                }
            ),
            screening.patient_id,
        )
    previous = screening.status
    with transaction.atomic():
        screening.status = ScreeningStatus.ENTERED_IN_ERROR
        screening.error_reason = reason[:300]
        screening.save(update_fields=["status", "error_reason"])
        trail.record(
            action=action,
            request=request,
            patient_id=screening.patient_id,
            target=screening,
            detail={"status": [previous, screening.status], "reason": screening.error_reason},
        )


# --- Is it usable for a plan? ---------------------------------------------------------------


def usability_problems(
    screening: Screening,
    *,
    snapshot: RecordSnapshot | None = None,
    today: dt.date | None = None,
    for_plan=None,
    used: set[int] | None = None,
) -> list[str]:
    """Why ``screening`` cannot back a new plan today; empty when it can.

    ``for_plan`` is the plan asking (its own link does not count as "already used").
    ``used``: ids of screenings already backing a plan, when the caller has them (lists).
    """
    today = today or timezone.localdate()
    if screening.in_error:
        return ["the screening was entered in error"]
    if not screening.is_signed:
        return ["the screening is not signed yet: a prescriber signs it first"]
    if not screening.signed_eligible:
        return ["the screening was signed not eligible"]
    problems: list[str] = []
    if screening.expired_on(today):
        problems.append(
            f"the screening expired after {screening.valid_until:%Y-%m-%d} "
            f"({validity.policy().valid_days} days, {'; '.join(validity.policy().sources)}): "
            "screen again"
        )
    snapshot = snapshot or record_snapshot(screening.patient, today)
    stale = validity.stale_reasons(screening.fingerprint, snapshot.fingerprint)
    if stale:
        problems.append("the screening is stale: " + "; ".join(stale) + ": screen again")
    if used is None:
        backing = screening.plans.valid()  # plans not entered in error
        if for_plan is not None and for_plan.pk:
            backing = backing.exclude(pk=for_plan.pk)
        already_used = backing.exists()
    else:
        already_used = screening.pk in used
    if already_used:
        problems.append("this screening already backs a plan: screen again before a new plan")
    return problems
