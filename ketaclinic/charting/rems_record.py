"""The Spravato REMS Patient Monitoring Form of one esketamine session, from its record.

``rems.py`` (pure) defines the form as data and says which fields are missing; this module
reads the session record and says what it knows for each field, with the basis shown next
to the value (DESIGN.md: the UI shows the source of everything the software fills in):

- patient: name, date of birth, sex (female/male; any other value is answered on the form);
- concomitant benzodiazepines, non-benzodiazepine sedative hypnotics, psychostimulants and
  MAOIs: the patient's medications active on the treatment date, by class
  (``patients/data/medication_classes.yaml``);
- monitoring provider (the prescriber on site, else the session nurse) and setting (the
  clinic's REMS certificate in force on the treatment date);
- treatment date (the first device, in the clinic's zone), dose (56 / 84 / other, from the
  devices charted) and lot number (the session's product, else the controlled-substance log);
- total minutes from the first device to the end of monitoring (discharge);
- vital signs acceptable before dosing (the reading before the first device raised no
  alert under the clinic's policy) and before leaving (the discharging clinician confirmed
  vital signs back to baseline); BP before dosing, at ~40 min and before leaving, matched
  to the monitoring schedule (``data/monitoring_schedules.yaml``, esketamine);
- sedation, dissociation, respiratory depression and other adverse events, once monitoring
  has ended (``ADVERSE_EVENT_SOURCES``).

What the record cannot say (when the patient would have been ready to leave without the
2-hour rule, say) a clinician enters on the form; a value from the record always wins, so
fixing the chart fixes the form. ``RemsForm.values`` holds::

    {"form": ..., "version": ..., "entered": {code: value}, "fields": {code: value},
     "bases": {code: text}}

``fields`` is the form as last saved; once submitted it is the form as filed and no longer
follows the record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import yaml
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.patients import vocabulary
from ketaclinic.patients.models import EntryStatus, Medication

from . import rems, safety, vitals
from .models import (
    RecordStatus,
    RemsEnrollment,
    RemsForm,
    SafetyAlert,
    SessionStatus,
    SettingCertification,
    TreatmentSession,
    VitalReading,
)

DEFINITION = rems.DEFAULT_FORM
# Sessions that gave esketamine and so need a form.
FORM_STATUSES = (SessionStatus.DOSING, SessionStatus.OBSERVATION, SessionStatus.DISCHARGED)

# Which medication classes answer each concomitant-medication question. Source: the REMS
# form's questions (REFERENCE.md section 4) and the record's classes
# (patients/data/medication_classes.yaml, which names the same classes for the form).
CONCOMITANT_CLASSES: Mapping[str, tuple[str, ...]] = {
    "concomitant_benzodiazepines": ("benzodiazepine",),
    "concomitant_non_benzodiazepine_sedative_hypnotics": ("sedative_hypnotic",),
    "concomitant_psychostimulants": ("psychostimulant",),
    "concomitant_maois": ("maoi",),
}

# Which chart entries answer each adverse-event question: side effects by their code in
# data/side_effects.yaml (REFERENCE.md section 3), safety alerts by their code in
# data/vital_sign_policy.yaml, and dissociation ratings above 0. Side effects not listed
# here, and every adverse event charted, are "other adverse events". A clinic that reads
# the form's questions differently edits this table.
ADVERSE_EVENT_SOURCES: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "sedation": {"side_effects": ("drowsiness",), "alerts": ()},
    "dissociation": {
        "side_effects": ("dissociation", "out_of_body_experience"),
        "alerts": (),
        "dissociation_ratings": ("above 0",),
    },
    "respiratory_depression": {
        "side_effects": ("respiratory_depression",),
        "alerts": ("respiratory_depression",),
    },
}
BP_CHECKS = {
    "bp_before_dosing": "bp_before_dosing",
    "bp_40_min_after_dosing": "bp_40_min",
    "bp_before_leaving": "bp_before_leaving",
}


@dataclass(frozen=True)
class Known:
    """What the record says for a field (``None``: it does not say) and why."""

    value: Any
    basis: str


# ---------------------------------------------------------------- reading the record


def local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment)


def clock(moment: dt.datetime) -> str:
    return f"{local(moment):%H:%M}"


def first_device_at(session: TreatmentSession) -> dt.datetime | None:
    device = session.devices.filter(status=RecordStatus.FINAL).order_by("at", "id").first()
    return device.at if device else None


def treatment_date(session: TreatmentSession, first_device: dt.datetime | None = None) -> dt.date:
    """The day esketamine was given, in the clinic's zone (first device, else dose start)."""
    moment = first_device or session.dose_started_at or session.opened_at
    return timezone.localdate(moment)


def end_of_monitoring(session: TreatmentSession) -> dt.datetime | None:
    if session.discharged_at:
        return session.discharged_at
    discharge = getattr(session, "discharge", None)
    return discharge.signed_at if discharge else None


def whole_minutes(start: dt.datetime, end: dt.datetime) -> int:
    seconds = Decimal((end - start).total_seconds())
    return int((seconds / 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def record_facts(session: TreatmentSession) -> dict[str, Known]:
    """Everything the session record says about the form, field by field."""
    first = first_device_at(session)
    day = treatment_date(session, first)
    facts: dict[str, Known] = {}
    facts.update(patient_facts(session))
    facts.update(medication_facts(session, day))
    facts.update(monitoring_facts(session, day, first))
    facts.update(treatment_facts(session, first))
    facts.update(vital_sign_facts(session, first))
    facts.update(adverse_event_facts(session))
    return facts


def patient_facts(session: TreatmentSession) -> dict[str, Known]:
    patient = session.patient
    basis = f"patient record (MRN {patient.mrn})"
    sex_choices = DEFINITION.field("patient_sex").choices
    if patient.sex in sex_choices:
        sex = Known(patient.sex, basis)
    else:
        sex = Known(None, f"the record says {patient.get_sex_display().lower()}: answer here")
    return {
        "patient_name": Known(patient.full_name, basis),
        "patient_date_of_birth": Known(patient.date_of_birth, basis),
        "patient_sex": sex,
    }


def active_medications(session: TreatmentSession, day: dt.date) -> list[Medication]:
    """The patient's medications taken on ``day``: active, or stopped after it."""
    rows = Medication.objects.filter(patient_id=session.patient_id).exclude(
        status=EntryStatus.ENTERED_IN_ERROR
    )
    rows = rows.filter(Q(started_on__isnull=True) | Q(started_on__lte=day))
    rows = rows.filter(
        Q(status=EntryStatus.ACTIVE, stopped_on__isnull=True) | Q(stopped_on__gte=day)
    )
    return list(rows.order_by("name"))


def medication_facts(session: TreatmentSession, day: dt.date) -> dict[str, Known]:
    medications = active_medications(session, day)
    classes = vocabulary.medication_classes()
    facts = {}
    for code, class_codes in CONCOMITANT_CLASSES.items():
        taking = [m for m in medications if m.drug_class in class_codes]
        names = ", ".join(classes.get(c, {}).get("display", c) for c in class_codes)
        if taking:
            listed = "; ".join(f"{m.name} {m.dose}".strip() for m in taking)
            facts[code] = Known(True, f"active medication on {day:%Y-%m-%d}: {listed}")
        else:
            facts[code] = Known(
                False, f"none active on {day:%Y-%m-%d} on the record (class: {names})"
            )
    return facts


def certificate_on(day: dt.date) -> SettingCertification | None:
    """The clinic's REMS setting certificate in force on ``day``."""
    return (
        SettingCertification.objects.filter(certified_on__lte=day)
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=day))
        .order_by("-certified_on", "-id")
        .first()
    )


def monitoring_facts(
    session: TreatmentSession, day: dt.date, first: dt.datetime | None
) -> dict[str, Known]:
    if session.prescriber_on_site_id:
        provider = Known(
            session.prescriber_on_site.display_name, "prescriber on site during monitoring"
        )
    else:
        provider = Known(session.nurse.display_name, "session nurse (no prescriber on site named)")
    certificate = certificate_on(day)
    if certificate is None:
        setting = Known(None, f"no REMS setting certification in force on {day:%Y-%m-%d}")
    else:
        setting = Known(
            f"{settings.CLINIC_NAME} (REMS certificate {certificate.certificate_id})",
            f"setting certified {certificate.certified_on:%Y-%m-%d}",
        )
    when = (
        Known(day, f"first device at {clock(first)}")
        if first
        else Known(day, "dose start (no device charted)")
    )
    return {"monitoring_provider": provider, "monitoring_setting": setting, "treatment_date": when}


def treatment_facts(session: TreatmentSession, first: dt.datetime | None) -> dict[str, Known]:
    devices = list(session.devices.filter(status=RecordStatus.FINAL))
    facts: dict[str, Known] = {}
    if devices:
        total = sum((Decimal(d.device_mg) for d in devices), Decimal(0))
        basis = f"{len(devices)} device{'s' if len(devices) != 1 else ''} charted, {total} mg"
        for code, value in rems.dose_fields(total, DEFINITION).items():
            facts[code] = Known(value, basis)
        facts.setdefault("dose_other_mg", Known(None, basis))
    else:
        facts["dose"] = Known(None, "no esketamine device charted")
    facts["lot_number"] = lot_fact(session)
    end = end_of_monitoring(session)
    if first and end and end >= first:
        facts["total_monitoring_minutes"] = Known(
            whole_minutes(first, end), f"first device {clock(first)} to discharge {clock(end)}"
        )
    else:
        facts["total_monitoring_minutes"] = Known(None, "known at discharge")
    facts["ready_to_leave_minutes"] = Known(None, "a clinician's judgement: answer here")
    return facts


def lot_fact(session: TreatmentSession) -> Known:
    if session.lot_number:
        return Known(session.lot_number, "product recorded on the session")
    from ketaclinic.inventory.models import EntryKind, LedgerEntry

    lots = sorted(
        set(
            LedgerEntry.objects.filter(session=session, kind=EntryKind.DRAW).values_list(
                "lot__lot_number", flat=True
            )
        )
    )
    if lots:
        return Known(", ".join(lots), "controlled-substance log: drawn for this session")
    return Known(None, "no lot recorded on the session or drawn in the log")


def pure_reading(row: VitalReading, anchor: dt.datetime) -> vitals.VitalReading:
    return vitals.VitalReading(
        minute=vitals.minute_from(row.at, anchor),
        systolic_mmhg=row.systolic_mmhg,
        diastolic_mmhg=row.diastolic_mmhg,
    )


def bp_readings(
    session: TreatmentSession, first: dt.datetime
) -> tuple[dict[str, VitalReading | None], dt.datetime | None]:
    """The readings that satisfy the esketamine schedule's three BP checks, by check."""
    rows = list(
        session.vitals.filter(
            status=RecordStatus.FINAL, systolic_mmhg__isnull=False, diastolic_mmhg__isnull=False
        ).order_by("at", "id")
    )
    end = end_of_monitoring(session)
    anchor = min([session.opened_at, first, *(r.at for r in rows)])
    readings = [pure_reading(row, anchor) for row in rows]
    checks = safety.monitoring_checks(
        "esketamine",
        dose_start_minute=vitals.minute_from(first, anchor),
        leaving_minute=vitals.minute_from(end, anchor) if end else None,
        now_minute=vitals.minute_from(max(timezone.now(), end or first), anchor),
        readings=readings,
    )
    found: dict[str, VitalReading | None] = dict.fromkeys(BP_CHECKS)
    taken: set[int] = set()
    for check in checks:
        if check.code in found and check.reading_minute is not None:
            for index, reading in enumerate(readings):
                if index not in taken and reading.minute == check.reading_minute:
                    taken.add(index)
                    found[check.code] = rows[index]
                    break
    return found, end


def vital_sign_facts(session: TreatmentSession, first: dt.datetime | None) -> dict[str, Known]:
    facts: dict[str, Known] = {}
    if first is None:
        for prefix in BP_CHECKS.values():
            for part in ("systolic", "diastolic"):
                facts[f"{prefix}_{part}_mmhg"] = Known(None, "no device charted yet")
        facts["vitals_acceptable_before_dosing"] = Known(None, "no device charted yet")
        facts["vitals_acceptable_before_leaving"] = leaving_fact(session)
        return facts
    found, _end = bp_readings(session, first)
    labels = {c.code: c.label for c in safety.DEFAULT_MONITORING.for_route("esketamine").checks}
    for check, prefix in BP_CHECKS.items():
        row = found[check]
        if row is None:
            basis = f"no reading fits the schedule's check '{labels.get(check, check)}'"
            systolic = diastolic = Known(None, basis)
        else:
            basis = f"reading at {clock(row.at)}"
            systolic, diastolic = Known(row.systolic_mmhg, basis), Known(row.diastolic_mmhg, basis)
        facts[f"{prefix}_systolic_mmhg"] = systolic
        facts[f"{prefix}_diastolic_mmhg"] = diastolic
    facts["vitals_acceptable_before_dosing"] = before_dosing_fact(found["bp_before_dosing"])
    facts["vitals_acceptable_before_leaving"] = leaving_fact(session)
    return facts


def before_dosing_fact(row: VitalReading | None) -> Known:
    if row is None:
        return Known(None, "no BP before the first device on the record")
    codes = sorted(set(SafetyAlert.objects.filter(reading=row).values_list("code", flat=True)))
    reading = f"BP {row.systolic_mmhg}/{row.diastolic_mmhg} at {clock(row.at)}"
    if codes:
        return Known(None, f"{reading} raised {', '.join(codes)}: a clinician answers")
    return Known(True, f"{reading} raised no alert under the clinic's vital-sign policy")


def leaving_fact(session: TreatmentSession) -> Known:
    discharge = getattr(session, "discharge", None)
    if discharge is None:
        return Known(None, "known at discharge")
    if discharge.criteria.get("vitals_at_baseline") is True:
        return Known(
            True,
            f"discharge signed by {discharge.signed_by.display_name} at "
            f"{clock(discharge.signed_at)}: vital signs back to baseline",
        )
    return Known(None, "the discharge did not confirm vital signs back to baseline")


def adverse_event_facts(session: TreatmentSession) -> dict[str, Known]:
    codes = [code for code in ADVERSE_EVENT_SOURCES] + [
        "other_adverse_events",
        "other_adverse_events_description",
    ]
    if end_of_monitoring(session) is None:
        return {code: Known(None, "known when monitoring ends (discharge)") for code in codes}
    side_effects = list(session.side_effects.filter(status=RecordStatus.FINAL).order_by("at"))
    alerts = list(session.alerts.values_list("code", flat=True))
    ratings = list(
        session.dissociation_ratings.filter(status=RecordStatus.FINAL, score__gt=0).order_by("at")
    )
    events = list(session.adverse_events.filter(status=RecordStatus.FINAL).order_by("at"))
    # An adverse event charted in words may be any of the form's kinds: the software does
    # not guess, so with one on the chart a clinician answers every question the coded
    # entries do not answer "yes".
    in_words = "; ".join(f"'{e.description}'" for e in events)
    ask = f"adverse event charted in words ({in_words}): a clinician answers"
    facts: dict[str, Known] = {}
    mapped: set[str] = set()
    for code, sources in ADVERSE_EVENT_SOURCES.items():
        effect_codes = set(sources.get("side_effects", ()))
        mapped |= effect_codes
        seen = [
            f"{label_of(s.code)} ({s.severity})" for s in side_effects if s.code in effect_codes
        ]
        seen += [f"alert {a}" for a in alerts if a in sources.get("alerts", ())]
        if sources.get("dissociation_ratings"):
            seen += [f"dissociation {r.score}/10 at {clock(r.at)}" for r in ratings]
        if seen:
            facts[code] = Known(True, "charted: " + "; ".join(seen))
        elif events:
            facts[code] = Known(None, ask)
        else:
            facts[code] = Known(False, "nothing of this kind charted during monitoring")
    others = [f"{label_of(s.code)} ({s.severity})" for s in side_effects if s.code not in mapped]
    if events:
        coded = f"; also charted: {'; '.join(others)}" if others else ""
        facts["other_adverse_events"] = Known(None, ask + coded)
        facts["other_adverse_events_description"] = Known(None, ask + coded)
    elif others:
        text = "; ".join(others)
        facts["other_adverse_events"] = Known(True, "charted: " + text)
        facts["other_adverse_events_description"] = Known(text, "side effects charted")
    else:
        facts["other_adverse_events"] = Known(
            False, "no other side effect or adverse event charted"
        )
        facts["other_adverse_events_description"] = Known(None, "none charted")
    return facts


def label_of(code: str) -> str:
    try:
        return safety.SIDE_EFFECTS.get(code).label
    except safety.PolicyError:
        return code


# ---------------------------------------------------------------- the form's state


def encode(value: Any) -> Any:
    """A form value as JSON: dates as ISO text, whole Decimals as int."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral() else str(value)
    return value


def decode(code: str, value: Any) -> Any:
    """A stored value back as the form's type; ``None`` for what cannot be read."""
    if value is None:
        return None
    kind = DEFINITION.field(code).type
    try:
        if kind == "date":
            return dt.date.fromisoformat(value)
        if kind == "integer" and not isinstance(value, bool):
            return int(value)
    except (TypeError, ValueError):
        return None
    return value


def decode_all(mapping: Mapping[str, Any] | None) -> dict[str, Any]:
    known = {f.code for f in DEFINITION.fields}
    return {code: decode(code, v) for code, v in (mapping or {}).items() if code in known}


@dataclass(frozen=True)
class RemsFormState:
    """The form of one session as the page shows it."""

    session: TreatmentSession
    row: RemsForm | None
    result: rems.FormResult
    bases: Mapping[str, str]
    origins: Mapping[str, str]  # "record", "entered" or "" per field
    treatment_date: dt.date
    due_date: dt.date
    today: dt.date
    entered: Mapping[str, Any] = field(default_factory=dict)

    @property
    def submitted(self) -> bool:
        return self.row is not None and self.row.submitted_at is not None

    @property
    def complete(self) -> bool:
        return self.result.complete

    @property
    def overdue(self) -> bool:
        submitted_on = timezone.localdate(self.row.submitted_at) if self.submitted else None
        return rems.is_overdue(self.treatment_date, submitted_on, self.today, DEFINITION)

    @property
    def missing_labels(self) -> list[str]:
        return [DEFINITION.field(code).label for code in self.result.missing]

    def editable(self, code: str) -> bool:
        """A clinician may answer a field the record does not fill and the form asks for
        (a conditional field, too, while the field it depends on is theirs to answer)."""
        if self.submitted or self.origins.get(code) == "record":
            return False
        item = DEFINITION.field(code)
        if item.is_required(self.result.values):
            return True
        return item.required_if is not None and self.origins.get(item.required_if[0]) != "record"

    def sections(self) -> list[dict]:
        """Fields grouped by section, in form order, with value, basis and origin."""
        grouped: dict[str, dict] = {}
        for item in DEFINITION.fields:
            label = SECTION_LABELS.get(item.section, item.section)
            section = grouped.setdefault(
                item.section, {"code": item.section, "label": label, "fields": []}
            )
            section["fields"].append(
                {
                    "field": item,
                    "value": self.result.values.get(item.code),
                    "shown": shown(item, self.result.values.get(item.code)),
                    "basis": self.bases.get(item.code, ""),
                    "origin": self.origins.get(item.code, ""),
                    "missing": item.code in self.result.missing,
                    "required": item.is_required(self.result.values),
                    "editable": self.editable(item.code),
                }
            )
        return list(grouped.values())


def _section_labels() -> dict[str, str]:
    with (vitals.DATA_DIR / "rems_patient_monitoring_form.yaml").open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return {section["code"]: section["label"] for section in data["sections"]}


SECTION_LABELS = _section_labels()


def shown(item: rems.FormField, value: Any) -> str:
    """A value as written on the form."""
    if value is None:
        return ""
    if item.type == "yes_no":
        return "Yes" if value else "No"
    if item.type == "date":
        return f"{value:%Y-%m-%d}"
    if item.type == "choice":
        return {"56_mg": "56 mg", "84_mg": "84 mg", "other": "Other"}.get(value, str(value).title())
    return str(value)


def form_state(session: TreatmentSession, *, today: dt.date | None = None) -> RemsFormState:
    """The session's form: as filed once submitted, otherwise from the record + answers."""
    today = today or timezone.localdate()
    row = RemsForm.objects.filter(session=session).select_related("submitted_by").first()
    stored = row.values if row is not None else {}
    if row is not None and row.submitted_at is not None:
        values = decode_all(stored.get("fields"))
        day = values.get("treatment_date") or treatment_date(session)
        return RemsFormState(
            session,
            row,
            rems.fill_form(values, DEFINITION),
            dict(stored.get("bases", {})),
            dict(stored.get("origins", {})),
            day,
            rems.due_date(day, DEFINITION),
            today,
        )
    return compose(session, row, decode_all(stored.get("entered")), today)


def compose(
    session: TreatmentSession, row: RemsForm | None, entered: Mapping[str, Any], today: dt.date
) -> RemsFormState:
    """The form from the record, with a clinician's answers where the record is silent."""
    facts = record_facts(session)
    known: dict[str, Any] = {}
    bases: dict[str, str] = {}
    origins: dict[str, str] = {}
    for item in DEFINITION.fields:
        fact = facts.get(item.code)
        if fact is not None and fact.value is not None:
            known[item.code], origins[item.code] = fact.value, "record"
            bases[item.code] = fact.basis
        elif entered.get(item.code) is not None:
            known[item.code], origins[item.code] = entered[item.code], "entered"
            bases[item.code] = "entered on the form"
        elif fact is not None:
            bases[item.code] = fact.basis
    day = known.get("treatment_date") or treatment_date(session)
    return RemsFormState(
        session,
        row,
        rems.fill_form(known, DEFINITION),
        bases,
        origins,
        day,
        rems.due_date(day, DEFINITION),
        today,
        dict(entered),
    )


# ---------------------------------------------------------------- writing


def stored_values(state: RemsFormState, entered: Mapping[str, Any]) -> dict:
    return {
        "form": DEFINITION.form,
        "version": DEFINITION.version,
        "entered": {code: encode(v) for code, v in entered.items()},
        "fields": {code: encode(v) for code, v in state.result.values.items()},
        "bases": dict(state.bases),
        "origins": dict(state.origins),
    }


def _reject(request, action: str, session: TreatmentSession, error: ValidationError):
    trail.record(
        action=action,
        request=request,
        patient_id=session.patient_id,
        target=session,
        outcome=Outcome.INVALID,
        detail={"errors": error.message_dict if hasattr(error, "error_dict") else error.messages},
    )
    raise error


def _locked_form(session: TreatmentSession) -> RemsForm:
    form, _ = RemsForm.objects.get_or_create(session=session)
    return RemsForm.objects.select_for_update().get(pk=form.pk)


def rems_form_save(*, request, session: TreatmentSession, entered: Mapping[str, Any]) -> RemsForm:
    """Store what a clinician answered for fields the record does not fill.

    A blank answer clears an earlier one. A field the record fills cannot be answered (fix
    the chart instead); a value of the wrong kind is refused, naming the field.
    """
    action = "rems.form_save"
    try:
        with transaction.atomic():
            form = _locked_form(session)
            if form.submitted_at is not None:
                raise ValidationError({"__all__": "This form was submitted; it no longer changes."})
            before = decode_all(form.values.get("entered"))
            state = form_state(session)
            answers = dict(before)
            errors: dict[str, str] = {}
            for code, value in entered.items():
                item = DEFINITION.field(code)
                if state.origins.get(code) == "record":
                    errors[code] = "The session record fills this field; correct the chart instead."
                    continue
                if value is None or (isinstance(value, str) and not value.strip()):
                    answers.pop(code, None)
                    continue
                if problem := item.problem(value):
                    errors[code] = problem
                    continue
                answers[code] = value
            if errors:
                raise ValidationError(errors)
            state = compose(session, form, answers, timezone.localdate())
            form.values = stored_values(state, answers)
            form.save(update_fields=["values"])
            changes = {
                code: [encode(before.get(code)), encode(answers.get(code))]
                for code in set(before) | set(answers)
                if before.get(code) != answers.get(code)
            }
            trail.record(
                action=action,
                request=request,
                patient_id=session.patient_id,
                target=form,
                detail={"changes": changes, "missing": list(state.result.missing)},
            )
        return form
    except ValidationError as error:
        _reject(request, action, session, error)


def rems_form_submit(*, request, session: TreatmentSession) -> RemsForm:
    """File the form: only when complete, once, with who and when; its values freeze."""
    action = "rems.form_submit"
    try:
        with transaction.atomic():
            form = _locked_form(session)
            if form.submitted_at is not None:
                raise ValidationError({"__all__": "This form was already submitted."})
            state = form_state(session)
            if not state.complete:
                labels = ", ".join(state.missing_labels) or "values of the wrong kind"
                raise ValidationError({"__all__": f"The form is incomplete. Missing: {labels}."})
            form.values = stored_values(state, state.entered)
            form.submitted_at = timezone.now()
            form.submitted_by = request.user
            form.save(update_fields=["values", "submitted_at", "submitted_by"])
            trail.record(
                action=action,
                request=request,
                patient_id=session.patient_id,
                target=form,
                detail={
                    "treatment_date": state.treatment_date.isoformat(),
                    "due_date": state.due_date.isoformat(),
                    "late": state.due_date < timezone.localdate(),
                },
            )
        return form
    except ValidationError as error:
        _reject(request, action, session, error)


# ---------------------------------------------------------------- lists


@dataclass(frozen=True)
class DueForm:
    """One esketamine session's form on the work list."""

    session: TreatmentSession
    treatment_date: dt.date
    due_date: dt.date
    submitted_at: dt.datetime | None
    overdue: bool

    @property
    def days_late(self) -> int:
        return (timezone.localdate() - self.due_date).days


def sessions_needing_forms():
    return (
        TreatmentSession.objects.filter(route="esketamine", status__in=FORM_STATUSES)
        .select_related("patient", "rems_form")
        .annotate(first_device_at=Min("devices__at", filter=Q(devices__status=RecordStatus.FINAL)))
    )


def due_forms(
    *, today: dt.date | None = None, overdue_only: bool = False, unfiled_only: bool = True
) -> list[DueForm]:
    """Esketamine sessions whose form is not filed (or all), oldest due date first."""
    today = today or timezone.localdate()
    sessions = sessions_needing_forms()
    if unfiled_only:
        sessions = sessions.filter(Q(rems_form__isnull=True) | Q(rems_form__submitted_at=None))
    if overdue_only:
        # Treated no earlier than opened: only sessions opened before the due window closed.
        cutoff = today - dt.timedelta(days=DEFINITION.due_within_days)
        midnight = timezone.make_aware(dt.datetime.combine(cutoff, dt.time.min))
        sessions = sessions.filter(opened_at__lt=midnight)
    listed = []
    for session in sessions:
        day = treatment_date(session, session.first_device_at)
        form = getattr(session, "rems_form", None)
        submitted_at = form.submitted_at if form is not None else None
        submitted_on = timezone.localdate(submitted_at) if submitted_at else None
        overdue = rems.is_overdue(day, submitted_on, today, DEFINITION)
        if overdue_only and not overdue:
            continue
        listed.append(DueForm(session, day, rems.due_date(day, DEFINITION), submitted_at, overdue))
    return sorted(listed, key=lambda f: (f.due_date, f.session.pk))


def filed_forms(limit: int = 50) -> Iterable[RemsForm]:
    return (
        RemsForm.objects.filter(submitted_at__isnull=False)
        .select_related("session__patient", "submitted_by")
        .order_by("-submitted_at")[:limit]
    )


def unenrolled_esketamine_patients():
    """Patients with an active esketamine plan and no REMS enrolment on record."""
    from ketaclinic.patients.models import Patient
    from ketaclinic.plans.models import PlanStatus

    return (
        Patient.objects.filter(
            plans__status=PlanStatus.ACTIVE, plans__route="esketamine", rems_enrollment__isnull=True
        )
        .distinct()
        .order_by("family_name", "given_name")
    )


# ---------------------------------------------------------------- enrolment and certification


def rems_enrol(*, request, patient, rems_patient_id: str, enrolled_on: dt.date) -> RemsEnrollment:
    """Record (or correct) the patient's REMS enrolment; the old values stay in the audit."""
    action = "rems.enrol"
    try:
        rems_patient_id = (rems_patient_id or "").strip()
        if not rems_patient_id:
            raise ValidationError({"rems_patient_id": "Give the REMS patient ID."})
        if enrolled_on > timezone.localdate():
            raise ValidationError({"enrolled_on": "Enrolment cannot be in the future."})
        with transaction.atomic():
            enrolment = RemsEnrollment.objects.select_for_update().filter(patient=patient).first()
            before = (
                {
                    "rems_patient_id": enrolment.rems_patient_id,
                    "enrolled_on": enrolment.enrolled_on.isoformat(),
                }
                if enrolment
                else {}
            )
            if enrolment is None:
                enrolment = RemsEnrollment(patient=patient)
            enrolment.rems_patient_id = rems_patient_id
            enrolment.enrolled_on = enrolled_on
            enrolment.recorded_by = request.user
            enrolment.recorded_at = timezone.now()
            enrolment.save()
            trail.record(
                action=action,
                request=request,
                patient=patient,
                target=enrolment,
                detail={
                    "before": before,
                    "after": {
                        "rems_patient_id": rems_patient_id,
                        "enrolled_on": enrolled_on.isoformat(),
                    },
                },
            )
        return enrolment
    except ValidationError as error:
        trail.record(
            action=action,
            request=request,
            patient=patient,
            outcome=Outcome.INVALID,
            detail={"errors": error.message_dict},
        )
        raise


def rems_certify(
    *, request, certificate_id: str, certified_on: dt.date, expires_on: dt.date | None
) -> SettingCertification:
    """Record the clinic's REMS healthcare-setting certification (a renewal is a new row)."""
    action = "rems.certify"
    try:
        certificate_id = (certificate_id or "").strip()
        if not certificate_id:
            raise ValidationError({"certificate_id": "Give the certificate ID."})
        if expires_on is not None and expires_on < certified_on:
            raise ValidationError({"expires_on": "The certificate expires before it starts."})
        with transaction.atomic():
            certificate = SettingCertification.objects.create(
                certificate_id=certificate_id,
                certified_on=certified_on,
                expires_on=expires_on,
                recorded_by=request.user,
            )
            trail.record(
                action=action,
                request=request,
                target=certificate,
                detail={
                    "certificate_id": certificate_id,
                    "certified_on": certified_on.isoformat(),
                    "expires_on": expires_on.isoformat() if expires_on else None,
                },
            )
        return certificate
    except ValidationError as error:
        trail.record(
            action=action,
            request=request,
            outcome=Outcome.INVALID,
            detail={"errors": error.message_dict},
        )
        raise
