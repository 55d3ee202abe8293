"""The treatment-session workflow: checklist, dosing, observation, discharge, integration.

Every write is a service named ``<noun>_<verb>``. Each one locks the session row, validates
against the session's current state, writes, and audits, in one transaction: bad input
raises ``ValidationError`` with a message per field (422), leaves an ``invalid`` audit row
and stores nothing. Clinical rows are never edited; a wrong one is marked
``entered-in-error`` and kept.

The medicine lives in the pure modules next to this one and in their data files: the
checklist gate (``checklist.py``), total dose and device rest (``administration.py``), alerts,
monitoring schedule and discharge blockers (``safety.py``), plausibility (``vitals.py``).
This module reads the record into their plain data and acts on what they say. The total
dose delivered is always computed from the administration record, never typed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from ketaclinic.accounts import verification
from ketaclinic.accounts.permissions import can
from ketaclinic.audit import trail
from ketaclinic.intake import consent_services
from ketaclinic.patients.models import Sex
from ketaclinic.patients.services import reject
from ketaclinic.protocols import catalog as protocol_catalog
from ketaclinic.scheduling.models import Status as AppointmentStatus

from . import administration, safety, services, vitals
from . import checklist as gate_rules
from .models import (
    AdverseEvent,
    BolusDose,
    ChecklistEntry,
    ChecklistStatus,
    Discharge,
    DissociationRating,
    InfusionEvent,
    InfusionEventKind,
    IntegrationNote,
    MedicationGiven,
    MedicationKind,
    NasalDevice,
    RecordStatus,
    RemsEnrollment,
    SafetyAlert,
    SessionStatus,
    SettingCertification,
    SideEffect,
    TreatmentSession,
    VitalReading,
)

ROUTE_WORDS = {"iv": "IV infusion", "im": "IM injection", "esketamine": "nasal spray"}
ACTIVE = (SessionStatus.CHECKLIST, SessionStatus.DOSING, SessionStatus.OBSERVATION)
AFTER_START = (SessionStatus.DOSING, SessionStatus.OBSERVATION)


# --------------------------------------------------------------------------------------
# Clinic options as data
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DissociationOptions:
    """The 0–10 scale and the CADSS-6 clinic option (``data/dissociation.yaml``)."""

    scale_min: int
    scale_max: int
    scale_source: str
    cadss_offered: bool
    cadss_items: tuple[int, ...]
    cadss_items_source: str
    cadss_answer_min: int | None
    cadss_answer_max: int | None
    cadss_answer_source: str

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> DissociationOptions:
        scale, cadss = mapping["scale"], mapping["cadss6"]
        offered = bool(cadss.get("offered", False))
        low, high = cadss.get("answer_min"), cadss.get("answer_max")
        if offered and (low is None or high is None or low >= high):
            raise ValueError("dissociation.yaml: an offered CADSS-6 needs answer_min < answer_max")
        return cls(
            scale_min=int(scale["min"]),
            scale_max=int(scale["max"]),
            scale_source=str(scale["source"]),
            cadss_offered=offered,
            cadss_items=tuple(int(n) for n in cadss["items"]),
            cadss_items_source=str(cadss["items_source"]),
            cadss_answer_min=None if low is None else int(low),
            cadss_answer_max=None if high is None else int(high),
            cadss_answer_source=str(cadss["answer_source"]),
        )


def load_dissociation_options(
    path: Path = vitals.DATA_DIR / "dissociation.yaml",
) -> DissociationOptions:
    with path.open(encoding="utf-8") as handle:
        return DissociationOptions.from_mapping(yaml.safe_load(handle))


DISSOCIATION = load_dissociation_options()


def dissociation_options() -> DissociationOptions:
    """The clinic's dissociation options in force (a clinic editor arrives later)."""
    return DISSOCIATION


@dataclass(frozen=True)
class RateRange:
    """The infusion rates the protocol allows for this patient, with the working."""

    low: Decimal
    high: Decimal
    rule: str
    sources: str

    @property
    def basis(self) -> str:
        return f"{self.rule} ({self.sources})"


def rate_range(session: TreatmentSession) -> RateRange | None:
    """Plausible infusion rates: the protocol's allowed mg/kg over its allowed minutes.

    From the clinic's protocol (``protocols/data/protocols.yaml``: allowed mg/kg and
    infusion minutes, each with sources) and the weight the plan's dose was computed on.
    ``None`` when the protocol has no infusion or the plan no weight.
    """
    rules = session.plan.protocol.rules()
    allowed, infusion = rules.dose.allowed_mg_per_kg, rules.infusion
    weight = session.plan.weight_kg
    if allowed is None or infusion is None or weight is None:
        return None
    minutes = infusion.allowed_minutes
    low = allowed.min * weight / minutes.max
    high = allowed.max * weight / minutes.min
    rule = (
        f"{rules.code}: {allowed.describe('mg/kg')} over {minutes.min}-{minutes.max} min "
        f"at the plan's {weight} kg"
    )
    return RateRange(low, high, rule, "; ".join(allowed.sources + minutes.sources))


def _text(value: Decimal, places: str = "0.01") -> str:
    return vitals.format_number(value.quantize(Decimal(places)))


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def now() -> dt.datetime:
    return timezone.now()


def local_time(moment: dt.datetime | None) -> str:
    return "" if moment is None else f"{timezone.localtime(moment):%H:%M}"


def session_day(session: TreatmentSession) -> dt.date:
    return timezone.localdate(session.opened_at)


def _name(user) -> str:
    return user.display_name if user is not None else ""


def final(rows: Iterable) -> list:
    """The rows that count: everything not entered in error."""
    return [row for row in rows if row.status == RecordStatus.FINAL]


def _lock(session: TreatmentSession) -> TreatmentSession:
    """The session row, locked for this transaction (one writer per session at a time)."""
    return (
        TreatmentSession.objects.select_for_update(of=("self",))
        .select_related("plan__protocol", "patient", "appointment")
        .get(pk=session.pk)
    )


def _write(
    request, session: TreatmentSession, action: str, write: Callable[[TreatmentSession], Any]
):
    """Run ``write`` on the locked session in one transaction; audit a refusal after rollback."""
    try:
        with transaction.atomic():
            result = write(_lock(session))
    except ValidationError as error:
        reject(request, action, error, session.patient_id)
    except IntegrityError as error:
        # A database constraint caught what the checks above let through: still a refusal.
        problem = ValidationError({"__all__": f"The record refused this entry: {error}"})
        reject(request, action, problem, session.patient_id)
    session.refresh_from_db()
    return result


def _require(condition: bool, field: str, message: str) -> None:
    if not condition:
        raise ValidationError({field: message})


def _status_in(session: TreatmentSession, allowed: Sequence[str], doing: str) -> None:
    if session.status not in allowed:
        raise ValidationError(
            {"status": f"Cannot {doing}: the session is {session.get_status_display().lower()}."}
        )


def _when(
    session: TreatmentSession,
    at: dt.datetime | None,
    *,
    not_before: dt.datetime | None = None,
    not_before_what: str = "",
) -> dt.datetime:
    """When an entry happened: now when not given; never in the future or before opening."""
    moment = at or now()
    if timezone.is_naive(moment):
        raise ValidationError({"at": "A time needs its time zone."})
    if moment > now():
        raise ValidationError({"at": f"{local_time(moment)} is in the future."})
    if moment < session.opened_at:
        raise ValidationError(
            {
                "at": f"{local_time(moment)} is before the session opened at "
                f"{local_time(session.opened_at)}."
            }
        )
    if not_before is not None and moment < not_before:
        raise ValidationError(
            {"at": f"{local_time(moment)} is before {not_before_what} at {local_time(not_before)}."}
        )
    return moment


def _audit(request, verb: str, session: TreatmentSession, target=None, **detail) -> None:
    trail.record(
        action=verb,
        request=request,
        patient_id=session.patient_id,
        target=target if target is not None else session,
        detail={"session": session.pk, **detail},
    )


def minute(session: TreatmentSession, moment: dt.datetime) -> Decimal:
    """Minutes from opening the session: the timeline of vitals, alerts and discharge."""
    return services.minute_of(session, moment)


def dose_minute(session: TreatmentSession, moment: dt.datetime) -> Decimal:
    """Minutes from the start of dosing: the timeline of the administration record."""
    return vitals.minute_from(moment, session.dose_started_at)


# --------------------------------------------------------------------------------------
# The checklist: facts from the record, answers from clinicians, and the gate
# --------------------------------------------------------------------------------------


def _screening_facts(session: TreatmentSession, day: dt.date) -> dict[str, gate_rules.Derived]:
    from ketaclinic.screening import services as screening_services
    from ketaclinic.screening import validity

    screening = session.plan.screening
    signer, signed_at = _name(screening.signed_by), screening.signed_at
    policy = validity.policy()
    if not screening.signed_eligible:
        valid = gate_rules.Derived(False, "the plan's screening is not signed eligible")
    elif screening.expired_on(day):
        valid = gate_rules.Derived(
            False,
            f"expired after {screening.valid_until:%Y-%m-%d} ({policy.valid_days} days; "
            f"{'; '.join(policy.sources)}): screen again",
            signer,
            signed_at,
        )
    else:
        valid = gate_rules.Derived(
            True,
            f"signed {screening.get_clinician_decision_display().lower()} on "
            f"{timezone.localdate(signed_at):%Y-%m-%d}, valid until {screening.valid_until:%Y-%m-%d}",
            signer,
            signed_at,
        )
    if not screening.is_signed:
        stale = gate_rules.Derived(False, "the screening is not signed")
    else:
        snapshot = screening_services.record_snapshot(session.patient, day)
        reasons = validity.stale_reasons(screening.fingerprint, snapshot.fingerprint)
        stale = gate_rules.Derived(
            not reasons,
            "; ".join(reasons)
            if reasons
            else "the record matches what the screening was signed on",
        )
    return {"screening_valid": valid, "no_new_contraindication": stale}


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
        age <= policy.weight_max_age_days, detail, _name(weight.recorded_by), weight.recorded_at
    )


def fasting_rule(session: TreatmentSession) -> str:
    """The protocol's fasting rule in words, with its source, for the nurse to ask about."""
    from ketaclinic.scheduling.preparation import instructions

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
    pure = [services.to_pure(session, row) for row in taken]
    critical = [
        a
        for a in safety.evaluate(pure, services.clinic_policy(), services.clinic_limits())
        if a.level == "critical"
    ]
    if critical:
        return gate_rules.Derived(
            False,
            "critical alert in force: " + "; ".join(f"{a.code} ({a.finding})" for a in critical),
            _name(newest.recorded_by) or newest.get_source_display(),
            newest.at,
        )
    return gate_rules.Derived(
        True,
        f"{reading_text(newest)} at {local_time(newest.at)}, no critical alert",
        _name(newest.recorded_by) or newest.get_source_display(),
        newest.at,
    )


MEASURED = {
    "systolic_mmhg": "blood pressure",
    "diastolic_mmhg": "blood pressure",
    "heart_rate_bpm": "heart rate",
    "spo2_pct": "SpO2",
    "resp_rate_per_min": "respiratory rate",
    "temperature_c": "temperature",
}


def reading_text(row: VitalReading) -> str:
    parts = []
    if row.systolic_mmhg is not None and row.diastolic_mmhg is not None:
        parts.append(f"BP {row.systolic_mmhg}/{row.diastolic_mmhg}")
    if row.heart_rate_bpm is not None:
        parts.append(f"HR {row.heart_rate_bpm}")
    if row.spo2_pct is not None:
        parts.append(f"SpO2 {row.spo2_pct}%")
    if row.resp_rate_per_min is not None:
        parts.append(f"RR {row.resp_rate_per_min}")
    return ", ".join(parts)


def _phq9_fact(session: TreatmentSession, day: dt.date) -> gate_rules.Derived:
    try:
        from ketaclinic.outcomes.checklist import phq9_done_today
    except ImportError:
        return gate_rules.Derived(None, "questionnaires are not available here: confirm by hand")
    if phq9_done_today(session.patient, day):
        return gate_rules.Derived(True, "PHQ-9 completed today", "the patient")
    return gate_rules.Derived(
        None, "no PHQ-9 completed today: the patient completes it, or confirm a paper one"
    )


def _rems_facts(session: TreatmentSession, day: dt.date) -> dict[str, gate_rules.Derived]:
    enrolment = RemsEnrollment.objects.filter(patient_id=session.patient_id).first()
    if enrolment is None:
        enrolled = gate_rules.Derived(False, "no Spravato REMS enrolment on the record")
    elif enrolment.enrolled_on > day:
        enrolled = gate_rules.Derived(False, f"enrolled only from {enrolment.enrolled_on:%Y-%m-%d}")
    else:
        enrolled = gate_rules.Derived(
            True,
            f"REMS patient ID {enrolment.rems_patient_id}, enrolled {enrolment.enrolled_on:%Y-%m-%d}",
            at=enrolment.recorded_at,
        )
    certificate = (
        SettingCertification.objects.filter(certified_on__lte=day)
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=day))
        .first()
    )
    if certificate is None:
        certified = gate_rules.Derived(False, "no current REMS setting certification on record")
    else:
        until = f", expires {certificate.expires_on:%Y-%m-%d}" if certificate.expires_on else ""
        certified = gate_rules.Derived(
            True,
            f"certificate {certificate.certificate_id} from {certificate.certified_on:%Y-%m-%d}{until}",
            at=certificate.recorded_at,
        )
    return {"rems_patient_enrolled": enrolled, "rems_setting_certified": certified}


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
    weight_based = session.plan.dose_mg_per_kg is not None
    if weight_based:
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


def checklist_entries(rows: Iterable[ChecklistEntry]) -> list[gate_rules.Entry]:
    """The session's checklist answers as plain data, oldest first, without errors."""
    return [
        gate_rules.Entry(
            code=row.code,
            outcome=row.outcome,
            by_id=row.recorded_by_id,
            by=_name(row.recorded_by),
            at=row.at,
            second_checker_id=row.second_checker_id,
            second_checker=_name(row.second_checker),
            note=row.note,
            override_reason=row.override_reason,
        )
        for row in sorted(final(rows), key=lambda r: (r.at, r.pk))
    ]


def checklist_rows(session: TreatmentSession) -> list[ChecklistEntry]:
    return list(
        session.checklist.select_related("recorded_by", "second_checker").order_by("at", "id")
    )


SNAPSHOT = "from the record: "


def checklist_states(
    session: TreatmentSession,
    *,
    rows: Sequence[ChecklistEntry] | None = None,
    readings: Sequence[VitalReading] | None = None,
) -> list[gate_rules.ItemState]:
    """Where each item stands: live while the checklist is open; once dosing has started, as
    it stood then (the record's answers were copied into the checklist at the start)."""
    entries = checklist_entries(rows if rows is not None else checklist_rows(session))
    if session.dose_started_at is None:
        return gate_rules.states(checklist_facts(session, readings=readings), entries)
    kept = {
        e.code: gate_rules.Derived(True, e.note.removeprefix(SNAPSHOT), e.by, e.at)
        for e in entries
        if e.outcome == "passed" and e.note.startswith(SNAPSHOT)
    }
    facts = dataclasses.replace(checklist_conditions(session), derived=kept)
    return gate_rules.states(facts, entries)


def _item(code: str) -> gate_rules.ChecklistItem:
    try:
        return gate_rules.DEFAULT_CHECKLIST.item(code)
    except gate_rules.ChecklistError as error:
        raise ValidationError({"code": str(error)}) from None


def checklist_record(
    *,
    request,
    session: TreatmentSession,
    code: str,
    outcome: str,
    note: str = "",
    second_checker=None,
    second_checker_password: str = "",
    at: dt.datetime | None = None,
) -> ChecklistEntry:
    """A clinician answers a checklist item: passed (confirmed) or failed (not met).

    An item with a two-clinician check (the dose check) passes only when the second
    clinician signs it with their own password (``accounts.verification``: checked before
    the write so a wrong password's refusal is kept; throttled on its own, never toward the
    second clinician's sign-in lockout).
    """
    note = (note or "").strip()
    _verify_second_checker(request, session, code, outcome, second_checker, second_checker_password)

    def write(locked: TreatmentSession) -> ChecklistEntry:
        _status_in(locked, [SessionStatus.CHECKLIST], "answer the checklist")
        item = _item(code)
        facts = checklist_conditions(locked)
        _require(
            gate_rules.applies(item, facts), "code", f"{item.label} is not asked for this session."
        )
        _require(
            outcome in ("passed", "failed"), "outcome", "Record the item as passed or not met."
        )
        if outcome == "passed":
            _require(
                item.attestable,
                "outcome",
                f"{item.label} is read from the record; correct the record, or a prescriber "
                "overrides the item with a reason.",
            )
        else:
            _require(bool(note), "note", "Say what is not met.")
        checker = None
        if item.second_checker and outcome == "passed":
            _require(
                second_checker is not None,
                "second_checker",
                "Name the second clinician who checked.",
            )
            _require(
                second_checker.pk != request.user.pk,
                "second_checker",
                "The second check must be done by a different clinician.",
            )
            _require(
                second_checker.is_active and can(second_checker, "session.chart"),
                "second_checker",
                "The second checker must be a nurse or prescriber.",
            )
            checker = second_checker
        moment = _when(locked, at)
        entry = ChecklistEntry.objects.create(
            session=locked,
            code=item.code,
            outcome=outcome,
            note=note[:300],
            second_checker=checker,
            recorded_by=request.user,
            at=moment,
        )
        _audit(
            request,
            "session.checklist",
            locked,
            entry,
            code=item.code,
            outcome=outcome,
            note=entry.note,
            second_checker=checker.username if checker else "",
            second_checker_signed="password" if checker else "",
        )
        return entry

    return _write(request, session, "session.checklist", write)


def _verify_second_checker(
    request, session: TreatmentSession, code: str, outcome: str, second_checker, password: str
) -> None:
    """The second clinician signs a confirmed two-clinician item with their own password.

    Only a check the write would otherwise accept is verified (another active nurse or
    prescriber confirming an item that needs two): everything else is refused by the write
    itself with its own message, and costs the named clinician no throttled attempt.
    """
    if outcome != "passed" or second_checker is None or second_checker.pk == request.user.pk:
        return
    try:
        item = gate_rules.DEFAULT_CHECKLIST.item(code)
    except gate_rules.ChecklistError:
        return
    if not item.second_checker:
        return
    if not (second_checker.is_active and can(second_checker, "session.chart")):
        return
    if not password:
        reject(
            request,
            "session.checklist",
            ValidationError(
                {
                    "second_checker_password": f"{second_checker.display_name} signs the "
                    "check by entering their own password."
                }
            ),
            session.patient_id,
        )
    verification.verify_password(
        request,
        verifier=second_checker,
        password=password,
        purpose="session.checklist",
        field="second_checker_password",
        patient_id=session.patient_id,
    )


def checklist_override(
    *, request, session: TreatmentSession, code: str, reason: str
) -> ChecklistEntry:
    """A prescriber overrides one checklist item, saying why. Audited with the reason."""
    reason = (reason or "").strip()

    def write(locked: TreatmentSession) -> ChecklistEntry:
        _require(
            can(request.user, "session.override"),
            "code",
            "Only a prescriber can override a checklist item.",
        )
        _status_in(locked, [SessionStatus.CHECKLIST], "override the checklist")
        item = _item(code)
        _require(
            gate_rules.applies(item, checklist_conditions(locked)),
            "code",
            f"{item.label} is not asked for this session.",
        )
        _require(item.overridable, "code", f"{item.label} cannot be overridden.")
        _require(bool(reason), "override_reason", "Give the reason for the override.")
        entry = ChecklistEntry.objects.create(
            session=locked,
            code=item.code,
            outcome=ChecklistStatus.OVERRIDDEN,
            override_reason=reason[:300],
            recorded_by=request.user,
        )
        _audit(
            request,
            "session.checklist_override",
            locked,
            entry,
            code=item.code,
            reason=entry.override_reason,
        )
        return entry

    return _write(request, session, "session.checklist_override", write)


# --------------------------------------------------------------------------------------
# Starting and ending the dose
# --------------------------------------------------------------------------------------


def _check_rate(
    session: TreatmentSession, rate: Decimal | None, field: str = "rate_mg_per_min"
) -> Decimal:
    _require(rate is not None, field, "Give the rate in mg/min.")
    _require(rate > 0, field, "The rate must be above 0 mg/min.")
    plausible = rate_range(session)
    if plausible is not None and not plausible.low <= rate <= plausible.high:
        raise ValidationError(
            {
                field: f"{vitals.format_number(rate)} mg/min is outside the protocol's "
                f"{_text(plausible.low)}–{_text(plausible.high)} mg/min ({plausible.rule})."
            }
        )
    return rate


def session_start(
    *,
    request,
    session: TreatmentSession,
    at: dt.datetime | None = None,
    rate_mg_per_min: Decimal | None = None,
    prescriber_on_site=None,
) -> TreatmentSession:
    """Start dosing once the checklist gate is clear (IV: the infusion starts at ``rate``).

    Items passed from the record are copied into the checklist as it stood, so the chart
    keeps what the record said when dosing started even if the record changes later.
    """

    def write(locked: TreatmentSession) -> TreatmentSession:
        _status_in(locked, [SessionStatus.CHECKLIST], "start dosing")
        rows = checklist_rows(locked)
        states = gate_rules.states(checklist_facts(locked), checklist_entries(rows))
        blocking = [s for s in states if s.blocking]
        if blocking:
            raise ValidationError({"checklist": [f"{s.item.label}: {s.detail}" for s in blocking]})
        moment = _when(locked, at)
        rate = None
        if locked.route == "iv":
            rate = _check_rate(locked, rate_mg_per_min or locked.planned_rate_mg_per_min)
        if locked.route == "esketamine":
            _require(
                prescriber_on_site is not None,
                "prescriber_on_site",
                "Name the prescriber on site during dosing and monitoring (Spravato REMS, "
                "REFERENCE.md section 4).",
            )
        if prescriber_on_site is not None:
            _require(
                can(prescriber_on_site, "session.override") and prescriber_on_site.is_active,
                "prescriber_on_site",
                "The prescriber on site must be a prescriber.",
            )
            locked.prescriber_on_site = prescriber_on_site
            locked.save(update_fields=["prescriber_on_site"])
        ChecklistEntry.objects.bulk_create(
            ChecklistEntry(
                session=locked,
                code=s.code,
                outcome=ChecklistStatus.PASSED,
                note=f"{SNAPSHOT}{s.detail}"[:300],
                recorded_by=request.user,
                at=moment,
            )
            for s in states
            if s.how == "record" and s.state == "passed"
        )
        services.session_transition(
            request=request, session=locked, to=SessionStatus.DOSING, dose_started_at=moment
        )
        if rate is not None:
            InfusionEvent.objects.create(
                session=locked,
                kind=InfusionEventKind.START,
                rate_mg_per_min=rate,
                at=moment,
                recorded_by=request.user,
            )
        _advance_appointment(request, locked, AppointmentStatus.IN_SESSION)
        _audit(
            request,
            "session.start",
            locked,
            rate_mg_per_min=str(rate) if rate is not None else None,
            overridden={s.code: s.detail for s in states if s.state == "overridden"},
        )
        return locked

    return _write(request, session, "session.start", write)


def _advance_appointment(request, session: TreatmentSession, to: str) -> None:
    from ketaclinic.scheduling import services as scheduling_services

    appointment = session.appointment
    if appointment is not None and appointment.may_become(to):
        scheduling_services.appointment_transition(request=request, appointment=appointment, to=to)


def session_not_started(*, request, session: TreatmentSession, reason: str) -> TreatmentSession:
    """The session will not start today (deferred, patient unwell...): say why."""
    reason = (reason or "").strip()

    def write(locked: TreatmentSession) -> TreatmentSession:
        _status_in(locked, [SessionStatus.CHECKLIST], "mark the session not started")
        _require(bool(reason), "reason", "Say why the session does not start.")
        services.session_transition(request=request, session=locked, to=SessionStatus.NOT_STARTED)
        _audit(request, "session.not_started_reason", locked, reason=reason[:300])
        return locked

    return _write(request, session, "session.not_started", write)


def _end_dose(request, session: TreatmentSession, moment: dt.datetime) -> None:
    services.session_transition(
        request=request, session=session, to=SessionStatus.OBSERVATION, dose_ended_at=moment
    )


def dose_end(
    *, request, session: TreatmentSession, at: dt.datetime | None = None
) -> TreatmentSession:
    """Dosing is over (IM injection given, last esketamine device used): observation begins.

    An infusion ends when it is stopped (:func:`infusion_record` with ``stop``).
    """

    def write(locked: TreatmentSession) -> TreatmentSession:
        _status_in(locked, [SessionStatus.DOSING], "end the dose")
        if locked.route == "iv":
            raise ValidationError({"status": "Stop the infusion to end the dose."})
        given = final(locked.boluses.all()) + final(locked.devices.all())
        _require(bool(given), "status", "Nothing has been given yet.")
        last = max(row.at for row in given)
        moment = _when(locked, at, not_before=last, not_before_what="the last dose given")
        _end_dose(request, locked, moment)
        return locked

    return _write(request, session, "session.dose_end", write)


# --------------------------------------------------------------------------------------
# Administration
# --------------------------------------------------------------------------------------


def pure_infusion(
    session: TreatmentSession, rows: Iterable[InfusionEvent]
) -> list[administration.InfusionEvent]:
    return [
        administration.InfusionEvent(dose_minute(session, row.at), row.kind, row.rate_mg_per_min)
        for row in sorted(final(rows), key=lambda r: (r.at, r.pk))
    ]


def administration_record(
    session: TreatmentSession,
    infusion: Iterable[InfusionEvent] = (),
    boluses: Iterable[BolusDose] = (),
    devices: Iterable[NasalDevice] = (),
) -> administration.AdministrationRecord:
    ordered_devices = sorted(final(devices), key=lambda r: (r.at, r.pk))
    return administration.AdministrationRecord(
        infusion=tuple(pure_infusion(session, infusion)),
        boluses=tuple(
            administration.Bolus(dose_minute(session, row.at), row.dose_mg)
            for row in final(boluses)
        ),
        devices=tuple(
            administration.NasalDevice(dose_minute(session, row.at), None, Decimal(row.device_mg))
            for row in ordered_devices
        ),
    )


def delivered(
    session: TreatmentSession,
    infusion: Iterable[InfusionEvent] = (),
    boluses: Iterable[BolusDose] = (),
    devices: Iterable[NasalDevice] = (),
    *,
    at: dt.datetime | None = None,
) -> administration.DoseTotal:
    """Total dose delivered so far, computed from the administration record."""
    if session.dose_started_at is None:
        return administration.delivered(administration.AdministrationRecord())
    record = administration_record(session, infusion, boluses, devices)
    moment = at or session.dose_ended_at or now()
    until = (
        max(dose_minute(session, moment), record.infusion[-1].minute) if record.infusion else None
    )
    return administration.delivered(record, until_minute=until)


def session_delivered(
    session: TreatmentSession, *, at: dt.datetime | None = None
) -> administration.DoseTotal:
    return delivered(
        session,
        session.infusion_events.all(),
        session.boluses.all(),
        session.devices.all(),
        at=at,
    )


def infusion_record(
    *,
    request,
    session: TreatmentSession,
    kind: str,
    at: dt.datetime | None = None,
    rate_mg_per_min: Decimal | None = None,
    reason: str = "",
) -> InfusionEvent:
    """A rate change (with reason), pause, resume (at the old rate unless given) or stop.

    A stop ends the dose and starts observation; before the planned minutes it is an early
    stop and needs a reason. Nothing can follow a stop.
    """
    reason = (reason or "").strip()

    def write(locked: TreatmentSession) -> InfusionEvent:
        _require(locked.route == "iv", "kind", "Only an IV session has an infusion.")
        if locked.status == SessionStatus.OBSERVATION or locked.status == SessionStatus.DISCHARGED:
            raise ValidationError(
                {
                    "kind": f"The infusion was stopped at {local_time(locked.dose_ended_at)}; "
                    "nothing can follow a stop."
                }
            )
        _status_in(locked, [SessionStatus.DOSING], "chart the infusion")
        _require(
            kind
            in (
                InfusionEventKind.RATE_CHANGE,
                InfusionEventKind.PAUSE,
                InfusionEventKind.RESUME,
                InfusionEventKind.STOP,
            ),
            "kind",
            "Choose a rate change, pause, resume or stop.",
        )
        rows = final(locked.infusion_events.all())
        last = max((row.at for row in rows), default=locked.dose_started_at)
        moment = _when(locked, at, not_before=last, not_before_what="the last infusion event")
        rate = None
        if kind == InfusionEventKind.RATE_CHANGE or (
            kind == InfusionEventKind.RESUME and rate_mg_per_min
        ):
            rate = _check_rate(locked, rate_mg_per_min)
        elif rate_mg_per_min is not None:
            raise ValidationError({"rate_mg_per_min": f"A {kind.replace('_', ' ')} takes no rate."})
        if kind in (InfusionEventKind.RATE_CHANGE, InfusionEventKind.PAUSE):
            _require(bool(reason), "reason", f"Say why ({kind.replace('_', ' ')}).")
        events = [
            *pure_infusion(locked, rows),
            administration.InfusionEvent(dose_minute(locked, moment), kind, rate),
        ]
        try:
            segments, _stopped = administration.infusion_segments(
                events, until_minute=events[-1].minute
            )
        except administration.AdministrationError as error:
            raise ValidationError({"kind": error.message}) from None
        early = False
        if kind == InfusionEventKind.STOP and locked.planned_minutes:
            ran = sum((s.minutes for s in segments), Decimal(0))
            early = ran < locked.planned_minutes
            _require(
                not early or bool(reason),
                "reason",
                f"The infusion ran {_text(ran, '0.1')} of {locked.planned_minutes} planned "
                "minutes: say why it stops early.",
            )
        event = InfusionEvent.objects.create(
            session=locked,
            kind=kind,
            rate_mg_per_min=rate,
            reason=reason[:300],
            at=moment,
            recorded_by=request.user,
        )
        if kind == InfusionEventKind.STOP:
            _end_dose(request, locked, moment)
        total = delivered(locked, [*rows, event], at=moment)
        _audit(
            request,
            "session.infusion",
            locked,
            event,
            kind=kind,
            rate_mg_per_min=str(rate) if rate is not None else None,
            reason=event.reason,
            early_stop=early,
            delivered_mg=str(total.total_mg),
        )
        return event

    return _write(request, session, "session.infusion", write)


def bolus_record(
    *, request, session: TreatmentSession, dose_mg: Decimal, at: dt.datetime | None = None
) -> BolusDose:
    """An IM injection, checked against the protocol's allowed mg/kg at the plan's weight."""

    def write(locked: TreatmentSession) -> BolusDose:
        _require(locked.route == "im", "dose_mg", "Injections are charted on IM sessions.")
        _status_in(locked, [SessionStatus.DOSING], "chart an injection")
        _require(dose_mg is not None and dose_mg > 0, "dose_mg", "The dose must be above 0 mg.")
        rules = locked.plan.protocol.rules()
        allowed, weight = rules.dose.allowed_mg_per_kg, locked.plan.weight_kg
        given = sum((b.dose_mg for b in final(locked.boluses.all())), Decimal(0))
        if allowed is not None and weight is not None:
            ceiling = allowed.max * weight
            _require(
                given + dose_mg <= ceiling,
                "dose_mg",
                f"{_text(given + dose_mg)} mg in this session would exceed the protocol's "
                f"{allowed.max} mg/kg at {weight} kg = {_text(ceiling)} mg "
                f"({'; '.join(allowed.sources)}).",
            )
        moment = _when(
            locked, at, not_before=locked.dose_started_at, not_before_what="dosing started"
        )
        bolus = BolusDose.objects.create(
            session=locked, dose_mg=dose_mg, at=moment, recorded_by=request.user
        )
        _audit(request, "session.bolus", locked, bolus, dose_mg=str(dose_mg))
        return bolus

    return _write(request, session, "session.bolus", write)


def device_rest_warnings(
    session: TreatmentSession, devices: Iterable[NasalDevice]
) -> list[tuple[administration.DeviceRestWarning, str]]:
    """Devices used closer together than the label's rest, each with a message in clock times.

    The gap is judged on the exact charted times (``administration.device_rest_warnings``);
    the message shows them as a nurse reads them, with the rule and its source.
    """
    ordered = sorted(final(devices), key=lambda r: (r.at, r.pk))
    record = administration_record(session, devices=ordered)
    when = {f"device {n}": row.at for n, row in enumerate(ordered, 1)}
    return [
        (
            warning,
            f"{warning.second} at {local_time(when[warning.second])} was used "
            f"{_text(warning.gap_minutes, '0.1')} min after {warning.first} at "
            f"{local_time(when[warning.first])}; {warning.source}",
        )
        for warning in administration.device_rest_warnings(record.devices)
    ]


@dataclass(frozen=True)
class DeviceResult:
    device: NasalDevice
    warnings: tuple[str, ...]


def device_record(
    *, request, session: TreatmentSession, at: dt.datetime | None = None
) -> DeviceResult:
    """One esketamine device used. Less than the rest interval after the previous one is a
    warning shown to the nurse, not a refusal: the device was used and counts."""

    def write(locked: TreatmentSession) -> DeviceResult:
        _require(
            locked.route == "esketamine", "at", "Nasal devices are charted on esketamine sessions."
        )
        _status_in(locked, [SessionStatus.DOSING], "chart a device")
        rules = locked.plan.protocol.rules()
        devices = final(locked.devices.all())
        device_mg = rules.dose.device_mg or int(administration.DEFAULT_FACTS.device_mg)
        most = max(rules.dose.allowed_doses_mg, default=0) // device_mg
        _require(
            not most or len(devices) < most,
            "at",
            f"{len(devices)} devices ({len(devices) * device_mg} mg) already given: the protocol "
            f"allows at most {most * device_mg} mg ({'; '.join(rules.dose.sources[:1])}).",
        )
        moment = _when(
            locked, at, not_before=locked.dose_started_at, not_before_what="dosing started"
        )
        device = NasalDevice.objects.create(session=locked, at=moment, recorded_by=request.user)
        ordered = sorted([*devices, device], key=lambda r: (r.at, r.pk))
        name = f"device {ordered.index(device) + 1}"
        warnings = [
            text
            for warning, text in device_rest_warnings(locked, ordered)
            if name in (warning.first, warning.second)
        ]
        planned = int(locked.planned_dose_mg) // device_mg
        if len(devices) + 1 > planned:
            warnings.append(
                f"{len(devices) + 1} devices given; the plan is {locked.planned_dose_mg} mg "
                f"({planned} devices)."
            )
        _audit(request, "session.device", locked, device, warnings=warnings)
        return DeviceResult(device, tuple(warnings))

    return _write(request, session, "session.device", write)


PRODUCT_FIELDS = ("product", "concentration_mg_per_ml", "lot_number", "lot_expiry")


def product_record(
    *,
    request,
    session: TreatmentSession,
    product: str,
    lot_number: str,
    lot_expiry: dt.date | None,
    concentration_mg_per_ml: Decimal | None = None,
) -> TreatmentSession:
    """The product drawn up: name, concentration, lot and expiry. A correction keeps the old
    values in the audit trail."""

    def write(locked: TreatmentSession) -> TreatmentSession:
        _status_in(locked, ACTIVE, "record the product")
        _require(bool((product or "").strip()), "product", "Name the product.")
        _require(bool((lot_number or "").strip()), "lot_number", "Give the lot number.")
        _require(lot_expiry is not None, "lot_expiry", "Give the lot's expiry date.")
        _require(
            lot_expiry >= session_day(locked),
            "lot_expiry",
            f"This lot expired on {lot_expiry:%Y-%m-%d}: do not use it.",
        )
        if locked.route != "esketamine":
            _require(
                concentration_mg_per_ml is not None and concentration_mg_per_ml > 0,
                "concentration_mg_per_ml",
                "Give the concentration in mg/mL.",
            )
        new = {
            "product": product.strip(),
            "concentration_mg_per_ml": concentration_mg_per_ml,
            "lot_number": lot_number.strip(),
            "lot_expiry": lot_expiry,
        }
        changes = {
            name: [getattr(locked, name), value]
            for name, value in new.items()
            if getattr(locked, name) != value
        }
        for name, value in new.items():
            setattr(locked, name, value)
        locked.save(update_fields=list(PRODUCT_FIELDS))
        _audit(
            request,
            "session.product",
            locked,
            changes={k: ["" if a is None else str(a), str(b)] for k, (a, b) in changes.items()},
        )
        return locked

    return _write(request, session, "session.product", write)


def medication_give(
    *,
    request,
    session: TreatmentSession,
    kind: str,
    drug: str,
    dose: str,
    route: str,
    reason: str = "",
    at: dt.datetime | None = None,
) -> MedicationGiven:
    """Premedication (e.g. ondansetron) or a rescue medication, with dose and time."""
    drug, dose, route, reason = (
        v.strip() for v in (drug or "", dose or "", route or "", reason or "")
    )

    def write(locked: TreatmentSession) -> MedicationGiven:
        _status_in(locked, ACTIVE, "chart a medication")
        _require(kind in MedicationKind.values, "kind", "Premedication or rescue medication?")
        _require(bool(drug), "drug", "Name the drug.")
        _require(bool(dose), "dose", "Give the dose.")
        _require(bool(route), "route", "Give the route.")
        if kind == MedicationKind.RESCUE:
            _require(bool(reason), "reason", "Say why the rescue medication was given.")
        moment = _when(locked, at)
        given = MedicationGiven.objects.create(
            session=locked,
            kind=kind,
            drug=drug[:100],
            dose=dose[:50],
            route=route[:30],
            reason=reason[:300],
            at=moment,
            recorded_by=request.user,
        )
        _audit(
            request,
            "session.medication",
            locked,
            given,
            kind=kind,
            drug=given.drug,
            dose=given.dose,
            route=given.route,
        )
        return given

    return _write(request, session, "session.medication", write)


# --------------------------------------------------------------------------------------
# Vitals and alerts
# --------------------------------------------------------------------------------------


def vitals_enter(
    *, request, session: TreatmentSession, values: Mapping[str, Any], at: dt.datetime | None = None
) -> tuple[VitalReading, list[SafetyAlert]]:
    """A reading entered by hand: refused with the reason when implausible, else stored and
    run through the clinic's vital-sign policy (alerts appear at once)."""

    def write(locked: TreatmentSession):
        _status_in(locked, ACTIVE, "chart vital signs")
        moment = _when(locked, at)
        new = services.NewReading(
            at=moment, values={k: v for k, v in values.items() if v is not None}
        )
        try:
            services.check_reading(locked, new)
        except vitals.ImplausibleReading as problem:
            field = problem.field if problem.field in services.MEASUREMENTS else "__all__"
            raise ValidationError({field: problem.message}) from None
        rows, alerts = services.vitals_record(
            session=locked,
            readings=[new],
            source="manual",
            recorded_by=request.user,
            request=request,
        )
        return rows[0], alerts

    return _write(request, session, "session.vitals", write)


def alert_acknowledge(
    *, request, session: TreatmentSession, alert: SafetyAlert, action_taken: str
) -> SafetyAlert:
    """A named clinician acknowledges an alert of this session and says what was done."""

    def write(locked: TreatmentSession) -> SafetyAlert:
        _require(alert.session_id == locked.pk, "alert", "No such alert in this session.")
        services.alert_acknowledge(request=request, alert=alert, action_taken=action_taken or "")
        return alert

    return _write(request, session, "session.alert_acknowledged", write)


# --------------------------------------------------------------------------------------
# Dissociation, side effects, adverse events
# --------------------------------------------------------------------------------------


def dissociation_record(
    *,
    request,
    session: TreatmentSession,
    score: int,
    cadss_items: Mapping[int, int] | None = None,
    at: dt.datetime | None = None,
    options: DissociationOptions | None = None,
) -> DissociationRating:
    """A dissociation rating on the clinic's 0–10 scale, with CADSS-6 items if offered."""
    options = options or dissociation_options()
    items = {int(k): v for k, v in (cadss_items or {}).items() if v is not None}

    def write(locked: TreatmentSession) -> DissociationRating:
        _status_in(locked, AFTER_START, "rate dissociation")
        _require(
            score is not None and options.scale_min <= score <= options.scale_max,
            "score",
            f"Rate dissociation from {options.scale_min} to {options.scale_max}.",
        )
        if items:
            _require(
                options.cadss_offered, "cadss_items", "This clinic does not use the CADSS-6 items."
            )
            for number, answer in items.items():
                _require(
                    number in options.cadss_items,
                    f"cadss_{number}",
                    f"CADSS item {number} is not in the CADSS-6.",
                )
                _require(
                    options.cadss_answer_min <= answer <= options.cadss_answer_max,
                    f"cadss_{number}",
                    f"Answer CADSS item {number} from {options.cadss_answer_min} to {options.cadss_answer_max}.",
                )
        moment = _when(
            locked, at, not_before=locked.dose_started_at, not_before_what="dosing started"
        )
        rating = DissociationRating.objects.create(
            session=locked,
            score=score,
            cadss_items={str(k): v for k, v in sorted(items.items())},
            at=moment,
            recorded_by=request.user,
        )
        _audit(
            request,
            "session.dissociation",
            locked,
            rating,
            score=score,
            cadss_items=rating.cadss_items,
        )
        return rating

    return _write(request, session, "session.dissociation", write)


def side_effect_record(
    *,
    request,
    session: TreatmentSession,
    code: str,
    severity: str,
    action: str = "",
    at: dt.datetime | None = None,
) -> SideEffect:
    """A side effect from the seeds' vocabulary, with severity and what was done."""

    def write(locked: TreatmentSession) -> SideEffect:
        _status_in(locked, AFTER_START, "chart a side effect")
        try:
            safety.SIDE_EFFECTS.get(code)
        except safety.PolicyError as error:
            raise ValidationError({"code": str(error)}) from None
        _require(
            severity in safety.SIDE_EFFECTS.severities,
            "severity",
            f"Severity is one of {', '.join(safety.SIDE_EFFECTS.severities)}.",
        )
        moment = _when(
            locked, at, not_before=locked.dose_started_at, not_before_what="dosing started"
        )
        effect = SideEffect.objects.create(
            session=locked,
            code=code,
            severity=severity,
            action=(action or "").strip()[:300],
            at=moment,
            recorded_by=request.user,
        )
        _audit(
            request,
            "session.side_effect",
            locked,
            effect,
            code=code,
            severity=severity,
            action=effect.action,
        )
        return effect

    return _write(request, session, "session.side_effect", write)


def adverse_event_record(
    *,
    request,
    session: TreatmentSession,
    description: str,
    serious: bool,
    at: dt.datetime | None = None,
) -> AdverseEvent:
    """An adverse event: serious ones are flagged for reporting, esketamine ones for REMS."""
    description = (description or "").strip()

    def write(locked: TreatmentSession) -> AdverseEvent:
        _status_in(locked, (*AFTER_START, SessionStatus.DISCHARGED), "chart an adverse event")
        _require(bool(description), "description", "Describe the adverse event.")
        moment = _when(
            locked, at, not_before=locked.dose_started_at, not_before_what="dosing started"
        )
        event = AdverseEvent.objects.create(
            session=locked,
            description=description,
            serious=bool(serious),
            report_required=bool(serious),
            rems_reportable=locked.route == "esketamine",
            at=moment,
            recorded_by=request.user,
        )
        _audit(
            request,
            "session.adverse_event",
            locked,
            event,
            serious=event.serious,
            report_required=event.report_required,
            rems_reportable=event.rems_reportable,
        )
        return event

    return _write(request, session, "session.adverse_event", write)


# --------------------------------------------------------------------------------------
# Monitoring schedule and discharge
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DoseWindow:
    """Dose start and end as the protocol counts them, in minutes from opening."""

    start: Decimal | None
    end: Decimal | None


def dose_window(
    session: TreatmentSession,
    infusion: Iterable[InfusionEvent] = (),
    devices: Iterable[NasalDevice] = (),
) -> DoseWindow:
    """IV: infusion start and stop; esketamine: first and last device; IM: dose start/end."""
    if session.route == "esketamine":
        used = sorted(row.at for row in final(devices))
        if used:
            last = minute(session, used[-1]) if session.dose_ended_at else None
            return DoseWindow(minute(session, used[0]), last)
        return DoseWindow(None, None)
    start = minute(session, session.dose_started_at) if session.dose_started_at else None
    end = minute(session, session.dose_ended_at) if session.dose_ended_at else None
    return DoseWindow(start, end)


def reference_moment(session: TreatmentSession) -> dt.datetime:
    """ "Now" for the session: the discharge time once discharged, else the present."""
    return session.discharged_at or now()


def monitoring(
    session: TreatmentSession, readings: Sequence[VitalReading], window: DoseWindow
) -> tuple[list[safety.ScheduledCheck], str]:
    """The expected vital-sign checks (done, due, overdue, upcoming), or why there are none."""
    if window.start is None:
        return [], "The schedule starts when dosing starts."
    try:
        checks = safety.monitoring_checks(
            session.route,
            dose_start_minute=window.start,
            dose_end_minute=window.end,
            leaving_minute=minute(session, session.discharged_at)
            if session.discharged_at
            else None,
            now_minute=minute(session, reference_moment(session)),
            readings=[services.to_pure(session, row) for row in final(readings)],
        )
    except safety.PolicyError as error:
        return [], f"{error}. The clinic sets this route's schedule."
    return checks, ""


def discharge_assessment(
    session: TreatmentSession,
    *,
    criteria: Mapping[str, bool],
    readings: Sequence[VitalReading],
    alerts: Sequence[SafetyAlert],
    window: DoseWindow,
    at: dt.datetime | None = None,
) -> tuple[safety.DischargeAssessment, list[safety.Blocker]]:
    """What still blocks discharge: the pure blockers plus every unacknowledged alert."""
    pure = [services.to_pure(session, row) for row in final(readings)]
    in_force = safety.evaluate(pure, services.clinic_policy(), services.clinic_limits())
    assessment = safety.discharge_blockers(
        session.route,
        checklist=criteria,
        now_minute=minute(session, at or reference_moment(session)),
        dose_start_minute=window.start,
        dose_end_minute=window.end,
        alerts=in_force,
    )
    blockers = list(assessment.blockers)
    blockers.extend(
        safety.Blocker(
            "open_alert",
            f"alert {a.code} at {local_time(a.raised_at)} not acknowledged",
            "ketaclinic issue #5: alerts are acknowledged by a named clinician",
        )
        for a in alerts
        if a.is_open
    )
    return assessment, blockers


def observation_anchor(session: TreatmentSession, window: DoseWindow) -> Decimal | None:
    rule = safety.DEFAULT_DISCHARGE.observation.get(session.route)
    if rule is not None and rule.anchor == "dose_start":
        return window.start
    return window.end


def discharge_instructions(
    session: TreatmentSession, *, whom_to_call: str, signed_by, at: dt.datetime, total_mg: Decimal
) -> str:
    advice = safety.DEFAULT_DISCHARGE.driving_advice_for(session.route)
    local = timezone.localtime(at)
    return "\n".join(
        [
            f"Discharge instructions for {session.patient.full_name} ({session.patient.mrn})",
            f"{settings.CLINIC_NAME}, {local:%Y-%m-%d %H:%M}",
            "",
            f"Treatment today: {session.drug}, {ROUTE_WORDS.get(session.route, session.route)}, "
            f"{vitals.format_number(total_mg)} mg given.",
            f"Driving: {advice.text} (source: {advice.source})",
            "Go home with the responsible adult who came to collect you.",
            f"Whom to call with questions or if you feel unwell: {whom_to_call}",
            "",
            f"Discharged by {signed_by.display_name}.",
        ]
    )


def discharge_sign(
    *,
    request,
    session: TreatmentSession,
    criteria: Mapping[str, bool],
    whom_to_call: str,
    at: dt.datetime | None = None,
) -> Discharge:
    """The discharging clinician signs: criteria met, minimum observation over, alerts
    acknowledged. Writes the instructions (driving advice, whom to call), ends the session and
    completes the visit."""
    whom_to_call = (whom_to_call or "").strip()

    def write(locked: TreatmentSession) -> Discharge:
        _require(
            can(request.user, "session.discharge"),
            "status",
            "Only a nurse or prescriber discharges.",
        )
        _status_in(locked, [SessionStatus.OBSERVATION], "discharge")
        moment = _when(
            locked, at, not_before=locked.dose_ended_at, not_before_what="the dose ended"
        )
        readings = list(locked.vitals.order_by("at", "id"))
        infusion = list(locked.infusion_events.all())
        devices = list(locked.devices.all())
        window = dose_window(locked, infusion, devices)
        asked = {c.code for c in safety.DEFAULT_DISCHARGE.criteria_for(locked.route)}
        ticked = {code: bool(criteria.get(code)) for code in asked}
        _assessment, blockers = discharge_assessment(
            locked,
            criteria=ticked,
            readings=readings,
            alerts=list(locked.alerts.all()),
            window=window,
            at=moment,
        )
        errors: dict[str, list[str]] = {}
        for blocker in blockers:
            field = blocker.code if blocker.code in asked else "__all__"
            errors.setdefault(field, []).append(blocker.message)
        if not whom_to_call:
            errors["whom_to_call"] = ["Say whom the patient calls after leaving."]
        if errors:
            raise ValidationError(errors)
        total = delivered(locked, infusion, locked.boluses.all(), devices, at=moment)
        anchor = observation_anchor(locked, window)
        observed = minute(locked, moment) - anchor if anchor is not None else Decimal(0)
        discharge = Discharge.objects.create(
            session=locked,
            criteria=ticked,
            instructions=discharge_instructions(
                locked,
                whom_to_call=whom_to_call,
                signed_by=request.user,
                at=moment,
                total_mg=total.total_mg,
            ),
            signed_by=request.user,
            signed_at=moment,
            observation_minutes=int(observed.to_integral_value(rounding=ROUND_FLOOR)),
        )
        services.session_transition(
            request=request, session=locked, to=SessionStatus.DISCHARGED, discharged_at=moment
        )
        _advance_appointment(request, locked, AppointmentStatus.COMPLETED)
        _audit(
            request,
            "session.discharge_signed",
            locked,
            discharge,
            criteria=ticked,
            observation_minutes=discharge.observation_minutes,
            delivered_mg=str(total.total_mg),
        )
        return discharge

    return _write(request, session, "session.discharge", write)


# --------------------------------------------------------------------------------------
# Integration notes and entries in error
# --------------------------------------------------------------------------------------


def integration_note_write(
    *, request, session: TreatmentSession, note: str, at: dt.datetime | None = None
) -> IntegrationNote:
    """The therapist's integration session note, linked to the treatment it follows."""
    note = (note or "").strip()

    def write(locked: TreatmentSession) -> IntegrationNote:
        _require(
            can(request.user, "integration_note.write"),
            "note",
            "Only a therapist or prescriber writes integration notes.",
        )
        _status_in(
            locked,
            [SessionStatus.DISCHARGED],
            "write an integration note (it follows the treatment)",
        )
        _require(bool(note), "note", "Write the note.")
        moment = at or now()
        _require(moment <= now(), "at", "The note cannot be dated in the future.")
        _require(
            moment >= locked.discharged_at,
            "at",
            f"The integration session follows the treatment (discharged {timezone.localtime(locked.discharged_at):%Y-%m-%d %H:%M}).",
        )
        written = IntegrationNote.objects.create(
            session=locked, therapist=request.user, note=note, at=moment, recorded_by=request.user
        )
        _audit(request, "session.integration_note", locked, written, length=len(note))
        return written

    return _write(request, session, "session.integration_note", write)


ENTRY_KINDS: dict[str, tuple[type, str, tuple[str, ...]]] = {
    # kind: (model, label, session statuses in which it may be struck out)
    "checklist": (ChecklistEntry, "checklist answer", (SessionStatus.CHECKLIST,)),
    "infusion": (InfusionEvent, "infusion event", (SessionStatus.DOSING,)),
    "bolus": (BolusDose, "injection", AFTER_START),
    "device": (NasalDevice, "nasal device", AFTER_START),
    "medication": (MedicationGiven, "medication", (*ACTIVE, SessionStatus.DISCHARGED)),
    "vitals": (VitalReading, "vital-sign reading", (*ACTIVE, SessionStatus.DISCHARGED)),
    "dissociation": (
        DissociationRating,
        "dissociation rating",
        (*AFTER_START, SessionStatus.DISCHARGED),
    ),
    "side_effect": (SideEffect, "side effect", (*AFTER_START, SessionStatus.DISCHARGED)),
    "adverse_event": (AdverseEvent, "adverse event", (*AFTER_START, SessionStatus.DISCHARGED)),
    "integration_note": (IntegrationNote, "integration note", (SessionStatus.DISCHARGED,)),
}


def entry_mark_in_error(
    *, request, session: TreatmentSession, kind: str, entry_id: int, reason: str
):
    """Strike out a wrong entry: it stays on the chart, marked entered-in-error, with why."""
    reason = (reason or "").strip()

    def write(locked: TreatmentSession):
        _require(kind in ENTRY_KINDS, "kind", "Unknown kind of entry.")
        model, label, statuses = ENTRY_KINDS[kind]
        entry = model.objects.filter(pk=entry_id, session=locked).first()
        _require(entry is not None, "entry", f"No such {label} in this session.")
        _require(
            entry.status == RecordStatus.FINAL,
            "entry",
            f"This {label} is already marked entered in error.",
        )
        _require(bool(reason), "reason", "Say why the entry is wrong.")
        if locked.status not in statuses:
            raise ValidationError(
                {
                    "entry": f"A {label} cannot be struck out once the session is "
                    f"{locked.get_status_display().lower()}."
                }
            )
        if kind == "infusion":
            rest = [e for e in locked.infusion_events.all() if e.pk != entry.pk]
            try:
                administration.infusion_segments(
                    pure_infusion(locked, rest), until_minute=dose_minute(locked, now())
                )
            except administration.AdministrationError:
                raise ValidationError(
                    {
                        "entry": "The infusion record would not make sense without this event: "
                        "strike out the later events first."
                    }
                ) from None
            _require(
                bool(final(rest)),
                "entry",
                "The infusion start cannot be struck out once dosing runs.",
            )
        entry.status = RecordStatus.ENTERED_IN_ERROR
        entry.error_reason = reason[:300]
        entry.save(update_fields=["status", "error_reason"])
        _audit(
            request, "session.entry_in_error", locked, entry, kind=kind, reason=entry.error_reason
        )
        return entry

    return _write(request, session, "session.entry_in_error", write)
