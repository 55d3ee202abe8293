"""What a session's record says for each field of its Spravato REMS Patient Monitoring Form.

``rems.py`` (pure) defines the form as data and says which fields are missing; this module
reads the session record and says what it knows for each field, with the basis shown next
to the value (the UI shows the source of everything the software fills in);
``rems_record.py`` composes the form from these facts and a clinician's answers:

- patient: name, date of birth, sex (female/male; any other value is answered on the form);
- concomitant benzodiazepines, non-benzodiazepine sedative hypnotics, psychostimulants and
  MAOIs: the patient's medications active on the treatment date, by class
  (``patients/data/medication_classes.yaml``);
- monitoring provider (the prescriber on site, else the session nurse) and setting (the
  clinic's REMS certificate in force on the treatment date);
- treatment date (the first device, in the clinic's zone), dose (56 / 84 / other, from the
  devices charted) and lot number (the session's product, else a registered lot source: the
  controlled-substance log registers itself, see :func:`register_lot_source`);
- total minutes from the first device to the end of monitoring (discharge);
- vital signs acceptable before dosing (the reading before the first device raised no
  alert under the clinic's policy) and before leaving (the discharging clinician confirmed
  vital signs back to baseline); BP before dosing, at ~40 min and before leaving, matched
  to the monitoring schedule (``data/monitoring_schedules.yaml``, esketamine);
- sedation, dissociation, respiratory depression and other adverse events, once monitoring
  has ended (``ADVERSE_EVENT_SOURCES``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from ketaclinic.patients import vocabulary
from ketaclinic.patients.models import EntryStatus, Medication

from . import rems, safety, vitals
from .models import (
    RecordStatus,
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


@dataclass(frozen=True)
class LotSource:
    """Somewhere else a session's lot numbers are recorded: ``lots(session)`` lists them and
    ``basis`` says where they come from, as the form shows it."""

    basis: str
    lots: Callable[[TreatmentSession], list[str]]


#: Lot sources registered by later apps in their ``AppConfig.ready()`` (the inventory's
#: controlled-substance log); charting does not import them.
LOT_SOURCES: list[LotSource] = []


def register_lot_source(basis: str, lots: Callable[[TreatmentSession], list[str]]) -> None:
    """Let the form find a session's lot numbers in a later app's records."""
    if all(source.lots is not lots for source in LOT_SOURCES):
        LOT_SOURCES.append(LotSource(basis, lots))


def lot_fact(session: TreatmentSession) -> Known:
    """The session's product lot, else the lots a registered source knows for it."""
    if session.lot_number:
        return Known(session.lot_number, "product recorded on the session")
    for source in LOT_SOURCES:
        if lots := sorted(set(source.lots(session))):
            return Known(", ".join(lots), source.basis)
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
        raised = ", ".join(safety.label_of(code) for code in codes)
        return Known(None, f"{reading} raised an alert ({raised}): a clinician answers")
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
        seen += [f"alert: {safety.label_of(a)}" for a in alerts if a in sources.get("alerts", ())]
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
