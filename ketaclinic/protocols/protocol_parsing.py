"""Reading one ``protocols.yaml`` entry into a :class:`~.entries.Protocol`, checked as it goes.

Besides the shape, the checks a clinician would expect of the data: defaults inside the allowed
ranges, esketamine only in whole devices and never for home use, an infusion for IV and only IV.
"""

from __future__ import annotations

from .entries import (
    INDICATIONS,
    ROUTES,
    DoseBasis,
    DoseRule,
    Fasting,
    Infusion,
    Monitoring,
    OlderAdultRule,
    Protocol,
    ProtocolPhase,
)
from .yaml_reader import StrictReader, decimal_range, int_range, present


def _dose_rule(reader: StrictReader) -> DoseRule:
    basis = DoseBasis(reader.choice("basis", tuple(DoseBasis)))
    if basis is DoseBasis.NASAL_DEVICE:
        rule = _device_dose_rule(reader)
    else:
        rule = DoseRule(
            basis=basis,
            sources=reader.sources() if "sources" in reader.raw else (),
            default_mg_per_kg=decimal_range(reader.child("default_mg_per_kg", required=False)),
            allowed_mg_per_kg=decimal_range(reader.child("allowed_mg_per_kg")),
            allowed_fixed_mg=decimal_range(
                reader.child("allowed_fixed_mg", required=basis is DoseBasis.MG_PER_KG_OR_FIXED_MG)
            ),
        )
        if basis is DoseBasis.MG_PER_KG and rule.default_mg_per_kg is None:
            raise reader.fail("default_mg_per_kg", "required for mg_per_kg protocols")
        default, allowed = rule.default_mg_per_kg, rule.allowed_mg_per_kg
        if (
            default is not None
            and allowed is not None
            and (default.min not in allowed or default.max not in allowed)
        ):
            raise reader.fail("default_mg_per_kg", "must lie inside allowed_mg_per_kg")
    reader.done()
    return rule


def _device_dose_rule(reader: StrictReader) -> DoseRule:
    device_mg = present(reader.integer("device_mg", minimum=1))
    allowed = reader.int_list("allowed_doses_mg")
    if not allowed or any(dose % device_mg for dose in allowed):
        raise reader.fail("allowed_doses_mg", f"must be whole multiples of {device_mg} mg")
    first_max = present(reader.integer("first_session_max_mg", minimum=1))
    if first_max not in allowed:
        raise reader.fail("first_session_max_mg", "must be one of allowed_doses_mg")
    older = reader.child("older_adult", required=False)
    older_rule = None
    if older is not None:
        older_rule = OlderAdultRule(
            from_age_years=present(older.integer("from_age_years", minimum=1)),
            start_mg=present(older.integer("start_mg", minimum=1)),
            step_mg=present(older.integer("step_mg", minimum=1)),
            reserved_doses_mg=older.int_list("reserved_doses_mg"),
            sources=older.sources(),
        )
        older.done()
        if older_rule.start_mg not in allowed:
            raise reader.fail("older_adult.start_mg", "must be one of allowed_doses_mg")
        if not set(older_rule.reserved_doses_mg) <= set(allowed):
            raise reader.fail("older_adult.reserved_doses_mg", "must be in allowed_doses_mg")
    return DoseRule(
        basis=DoseBasis.NASAL_DEVICE,
        sources=reader.sources(),
        device_mg=device_mg,
        allowed_doses_mg=allowed,
        first_session_max_mg=first_max,
        older_adult=older_rule,
        minutes_between_devices=reader.integer("minutes_between_devices", minimum=1),
    )


def _infusion(reader: StrictReader | None) -> Infusion | None:
    if reader is None:
        return None
    allowed = present(int_range(reader.child("allowed_minutes")))
    result = Infusion(
        default_minutes=present(reader.integer("default_minutes", minimum=1)),
        default_sources=reader.sources("default_sources"),
        allowed_minutes=allowed,
    )
    if result.default_minutes not in allowed:
        raise reader.fail("default_minutes", "must lie inside allowed_minutes")
    reader.done()
    return result


def _fasting(reader: StrictReader) -> Fasting:
    result = Fasting(
        food_min_hours=reader.integer("food_min_hours", required=False),
        food_max_hours=reader.integer("food_max_hours", required=False),
        liquids_min_minutes=reader.integer("liquids_min_minutes", required=False),
        nasal_steroids_decongestants_min_hours_before=reader.integer(
            "nasal_steroids_decongestants_min_hours_before", required=False
        ),
        sources=reader.sources(),
        clinic_editable=reader.flag("clinic_editable", default=False),
        note=reader.text("note", required=False),
    )
    low, high = result.food_min_hours, result.food_max_hours
    if low is not None and high is not None and low > high:
        raise reader.fail("food_min_hours", "is above food_max_hours")
    reader.done()
    return result


def _monitoring(reader: StrictReader) -> Monitoring:
    result = Monitoring(
        observation_after_dose_minutes=reader.integer(
            "observation_after_dose_minutes", required=False, minimum=1
        ),
        bp_every_minutes_during=reader.integer("bp_every_minutes_during", required=False),
        bp_every_minutes_after=reader.integer("bp_every_minutes_after", required=False),
        bp_at_minutes_after_dose=reader.int_list("bp_at_minutes_after_dose"),
        pulse_oximetry=reader.flag("pulse_oximetry"),
        sources=reader.sources(),
        clinic_editable=reader.flag("clinic_editable", default=False),
        note=reader.text("note", required=False),
    )
    if result.observation_after_dose_minutes is None and result.note is None:
        raise reader.fail("note", "explain who sets the monitoring time when it is null")
    reader.done()
    return result


def _protocol_phase(reader: StrictReader) -> ProtocolPhase:
    result = ProtocolPhase(
        name=present(reader.text("name")),
        frequency=present(reader.text("frequency")),
        from_week=reader.integer("from_week", required=False, minimum=1),
        to_week=reader.integer("to_week", required=False, minimum=1),
        doses_mg=reader.int_list("doses_mg"),
        sources=reader.sources(),
        note=reader.text("note", required=False),
    )
    reader.done()
    return result


def _schedule_codes(reader: StrictReader) -> tuple[str, ...]:
    value = reader.value("course_schedules", False) or []
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        raise reader.fail("course_schedules", "expected a list of schedule codes")
    return tuple(value)


def read_protocol(reader: StrictReader) -> Protocol:
    """One ``protocols.yaml`` entry, with the checks that span its parts."""
    route = reader.choice("route", ROUTES)
    indications_raw = reader.raw.get("indications")
    indications = None if indications_raw is None else reader.text_list("indications", INDICATIONS)
    reader.used.add("indications")
    result = Protocol(
        code=present(reader.text("code")),
        name=present(reader.text("name")),
        route=route,
        drug=present(reader.text("drug")),
        indications=indications,
        dose=_dose_rule(present(reader.child("dose"))),
        infusion=_infusion(reader.child("infusion", required=False)),
        fasting=_fasting(present(reader.child("fasting"))),
        monitoring=_monitoring(present(reader.child("monitoring"))),
        phases=tuple(_protocol_phase(child) for child in reader.children("phases")),
        course_schedules=_schedule_codes(reader),
        home_use_allowed=reader.flag("home_use_allowed"),
        sources=reader.sources(),
    )
    if route == "iv" and result.infusion is None:
        raise reader.fail("infusion", "IV protocols need an infusion duration")
    if route != "iv" and result.infusion is not None:
        raise reader.fail("infusion", "only IV protocols have an infusion duration")
    if (route == "esketamine") != (result.dose.basis is DoseBasis.NASAL_DEVICE):
        raise reader.fail("dose.basis", "nasal_device is for esketamine and only for it")
    if route == "esketamine" and result.home_use_allowed:
        # REFERENCE.md section 1: esketamine is never dispensed for home use (REMS).
        raise reader.fail("home_use_allowed", "esketamine is never dispensed for home use")
    reader.done()
    return result
