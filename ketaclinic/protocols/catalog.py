"""Protocol catalog: the shipped protocol, schedule and dosing-policy data as frozen dataclasses.

Pure Python, no Django. The data live in ``protocols/data/*.yaml``, transcribed from
shared/domain/REFERENCE.md sections 1 and 3 with a source next to every number. This module
loads them once, validates the files themselves (unknown keys, missing sources, min above max,
dangling schedule codes...) and offers lookups by code. The lead seeds the database from the
same files; dosing.py and plans/schedule.py read the dataclasses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

__all__ = [
    "Catalog",
    "CatalogError",
    "DecimalRange",
    "DoseBasis",
    "DoseRule",
    "DosingPolicy",
    "Fasting",
    "Infusion",
    "IntRange",
    "Monitoring",
    "OlderAdultRule",
    "Protocol",
    "ProtocolPhase",
    "ScheduleKind",
    "SchedulePattern",
    "SchedulePhase",
    "UnknownCodeError",
    "catalog",
    "get_protocol",
    "get_schedule",
    "load_catalog",
    "parse_protocol",
    "protocols",
]

ROUTES = ("iv", "im", "esketamine", "sublingual", "oral")
INDICATIONS = (
    "trd",
    "mdd_suicidal_ideation",
    "ptsd",
    "anxiety",
    "chronic_pain",
    "ocd",
    "bipolar_depression",
)
SESSION_PHASES = ("induction", "optimization", "maintenance")


class CatalogError(ValueError):
    """A catalog data file is malformed: a bug in the shipped data, not user input."""


class UnknownCodeError(LookupError):
    """No protocol or schedule with that code; ``kind`` says which, ``known`` lists the codes."""

    def __init__(self, kind: str, code: object, known: tuple[str, ...]) -> None:
        super().__init__(f"unknown {kind} {code!r}; known: {', '.join(known)}")
        self.kind = kind
        self.code = code
        self.known = known


class DoseBasis(StrEnum):
    """How a protocol's dose is expressed."""

    MG_PER_KG = "mg_per_kg"
    NASAL_DEVICE = "nasal_device"
    MG_PER_KG_OR_FIXED_MG = "mg_per_kg_or_fixed_mg"


class ScheduleKind(StrEnum):
    """Shapes of schedule pattern understood by plans/schedule.py."""

    SPREAD = "spread"
    INTERVAL = "interval"
    PHASED = "phased"


@dataclass(frozen=True)
class DecimalRange:
    """Inclusive range of a decimal quantity (doses), with its basis."""

    min: Decimal
    max: Decimal
    sources: tuple[str, ...]
    clinic_editable: bool = False

    def __contains__(self, value: object) -> bool:
        return isinstance(value, Decimal) and self.min <= value <= self.max

    def describe(self, unit: str) -> str:
        """``"0.1-1.0 mg/kg"`` for messages."""
        return f"{self.min}-{self.max} {unit}"


@dataclass(frozen=True)
class IntRange:
    """Inclusive range of a whole-number quantity (minutes, weeks, counts), with its basis."""

    min: int
    max: int
    sources: tuple[str, ...]
    clinic_editable: bool = False
    default: int | None = None

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int) and self.min <= value <= self.max


@dataclass(frozen=True)
class OlderAdultRule:
    """Esketamine from a given age: start low and change in small steps (EU SmPC).

    ``reserved_doses_mg`` are the doses kept for that age group (28 mg): below the age they
    need an override reason.
    """

    from_age_years: int
    start_mg: int
    step_mg: int
    reserved_doses_mg: tuple[int, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class DoseRule:
    """What doses a protocol allows. Fields unused by the basis are ``None`` or empty."""

    basis: DoseBasis
    sources: tuple[str, ...]
    default_mg_per_kg: DecimalRange | None = None
    allowed_mg_per_kg: DecimalRange | None = None
    allowed_fixed_mg: DecimalRange | None = None
    device_mg: int | None = None
    allowed_doses_mg: tuple[int, ...] = ()
    first_session_max_mg: int | None = None
    older_adult: OlderAdultRule | None = None
    minutes_between_devices: int | None = None


@dataclass(frozen=True)
class Infusion:
    """Infusion duration for IV protocols."""

    default_minutes: int
    default_sources: tuple[str, ...]
    allowed_minutes: IntRange


@dataclass(frozen=True)
class Fasting:
    """Preparation before dosing; ``None`` means no rule in REFERENCE.md (clinic sets it)."""

    sources: tuple[str, ...]
    clinic_editable: bool
    food_min_hours: int | None = None
    food_max_hours: int | None = None
    liquids_min_minutes: int | None = None
    nasal_steroids_decongestants_min_hours_before: int | None = None
    note: str | None = None


@dataclass(frozen=True)
class Monitoring:
    """Observation after dosing; ``None`` durations are for the clinic to set."""

    sources: tuple[str, ...]
    pulse_oximetry: bool
    clinic_editable: bool = False
    observation_after_dose_minutes: int | None = None
    bp_every_minutes_during: int | None = None
    bp_every_minutes_after: int | None = None
    bp_at_minutes_after_dose: tuple[int, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class ProtocolPhase:
    """A phase of the course as the label or the seeds describe it (for the plan page)."""

    name: str
    frequency: str
    sources: tuple[str, ...]
    from_week: int | None = None
    to_week: int | None = None
    doses_mg: tuple[int, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class Protocol:
    """One protocol of the catalog."""

    code: str
    name: str
    route: str
    drug: str
    indications: tuple[str, ...] | None
    dose: DoseRule
    infusion: Infusion | None
    fasting: Fasting
    monitoring: Monitoring
    phases: tuple[ProtocolPhase, ...]
    course_schedules: tuple[str, ...]
    home_use_allowed: bool
    sources: tuple[str, ...]


@dataclass(frozen=True)
class SchedulePhase:
    """A week range of a phased schedule; ``to_week`` ``None`` runs to the horizon."""

    name: str
    from_week: int
    to_week: int | None
    sessions_per_week: int
    every_weeks: int
    sources: tuple[str, ...]
    every_weeks_if_weekly: int | None = None


@dataclass(frozen=True)
class SchedulePattern:
    """A schedule pattern; which fields are set depends on ``kind``."""

    code: str
    kind: ScheduleKind
    min_gap_days: int
    sources: tuple[str, ...]
    clinic_editable: bool
    phase: str | None = None
    sessions: int | None = None
    max_span_days: int | None = None
    target_sessions_per_week: int | None = None
    interval_weeks: IntRange | None = None
    count: IntRange | None = None
    horizon_weeks: IntRange | None = None
    phases: tuple[SchedulePhase, ...] = ()


@dataclass(frozen=True)
class DosingPolicy:
    """Limits on dosing inputs and rounding increments."""

    weight_kg: DecimalRange
    weight_max_age_days: int
    weight_max_age_sources: tuple[str, ...]
    weight_max_age_clinic_editable: bool
    dose_increment_mg: Decimal
    rate_increment_mg_per_min: Decimal
    rounding_sources: tuple[str, ...]
    percent_increment: Decimal


@dataclass(frozen=True)
class Catalog:
    """Everything in ``protocols/data``, validated."""

    protocols: Mapping[str, Protocol]
    schedules: Mapping[str, SchedulePattern]
    dosing_policy: DosingPolicy
    min_working_days: int
    min_working_days_sources: tuple[str, ...]


# --------------------------------------------------------------------------------------------
# A small strict reader: every key must be read, every value checked, or the file is refused.
# --------------------------------------------------------------------------------------------


class _Reader:
    """Reads one YAML mapping, remembering which keys were used so leftovers are errors."""

    def __init__(self, raw: Any, where: str) -> None:
        if not isinstance(raw, dict):
            raise CatalogError(f"{where}: expected a mapping, got {raw!r}")
        self.raw = raw
        self.where = where
        self.used: set[str] = set()

    def _get(self, key: str, required: bool) -> Any:
        self.used.add(key)
        value = self.raw.get(key)
        if value is None and required:
            raise CatalogError(f"{self.where}.{key}: required")
        return value

    def fail(self, key: str, problem: str) -> CatalogError:
        return CatalogError(f"{self.where}.{key}: {problem}")

    def text(self, key: str, *, required: bool = True) -> str | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "expected non-empty text")
        return " ".join(value.split())

    def choice(self, key: str, allowed: tuple[str, ...]) -> str:
        value = self._get(key, True)
        if value not in allowed:
            raise self.fail(key, f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def integer(self, key: str, *, required: bool = True, minimum: int = 0) -> int | None:
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"expected a whole number, got {value!r}")
        if value < minimum:
            raise self.fail(key, f"must be at least {minimum}")
        return value

    def decimal(self, key: str) -> Decimal:
        value = self._get(key, True)
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.fail(key, f"expected a number, got {value!r}")
        try:
            # str() first: YAML reads 0.1 as a float, and Decimal(0.1) is not 0.1.
            number = Decimal(str(value))
        except InvalidOperation:
            raise self.fail(key, f"expected a number, got {value!r}") from None
        if not number.is_finite() or number <= 0:
            raise self.fail(key, "must be a positive number")
        return number

    def flag(self, key: str, *, default: bool | None = None) -> bool:
        value = self._get(key, default is None)
        if value is None:
            return bool(default)
        if not isinstance(value, bool):
            raise self.fail(key, "expected true or false")
        return value

    def sources(self, key: str = "sources") -> tuple[str, ...]:
        value = self._get(key, True)
        if not isinstance(value, list) or not value:
            raise self.fail(key, "every entry must name at least one source")
        if not all(isinstance(item, str) and item.strip() for item in value):
            raise self.fail(key, "sources must be non-empty text")
        return tuple(" ".join(item.split()) for item in value)

    def int_list(self, key: str) -> tuple[int, ...]:
        value = self._get(key, False)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(
            isinstance(item, int) and not isinstance(item, bool) and item > 0 for item in value
        ):
            raise self.fail(key, "expected a list of positive whole numbers")
        return tuple(value)

    def text_list(self, key: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
        value = self._get(key, False)
        if value is None:
            return ()
        if not isinstance(value, list) or any(item not in allowed for item in value):
            raise self.fail(key, f"expected a list drawn from {', '.join(allowed)}")
        return tuple(value)

    def child(self, key: str, *, required: bool = True) -> _Reader | None:
        value = self._get(key, required)
        return None if value is None else _Reader(value, f"{self.where}.{key}")

    def children(self, key: str) -> list[_Reader]:
        value = self._get(key, True)
        if not isinstance(value, list) or not value:
            raise self.fail(key, "expected a non-empty list")
        return [_Reader(item, f"{self.where}.{key}[{i}]") for i, item in enumerate(value)]

    def done(self) -> None:
        leftover = set(self.raw) - self.used
        if leftover:
            raise CatalogError(f"{self.where}: unknown keys {sorted(leftover)}")


def _decimal_range(reader: _Reader | None) -> DecimalRange | None:
    if reader is None:
        return None
    result = DecimalRange(
        min=reader.decimal("min"),
        max=reader.decimal("max"),
        sources=reader.sources(),
        clinic_editable=reader.flag("clinic_editable", default=False),
    )
    if result.min > result.max:
        raise reader.fail("min", "is above max")
    reader.done()
    return result


def _int_range(reader: _Reader | None) -> IntRange | None:
    if reader is None:
        return None
    result = IntRange(
        min=_required(reader.integer("min", minimum=1)),
        max=_required(reader.integer("max", minimum=1)),
        default=reader.integer("default", required=False, minimum=1),
        sources=reader.sources(),
        clinic_editable=reader.flag("clinic_editable", default=False),
    )
    if result.min > result.max:
        raise reader.fail("min", "is above max")
    if result.default is not None and result.default not in result:
        raise reader.fail("default", "is outside min-max")
    reader.done()
    return result


def _required(value: Any) -> Any:
    # Narrows "X | None" from a required read; the reader already refused None.
    assert value is not None
    return value


# --------------------------------------------------------------------------------------------
# Protocols
# --------------------------------------------------------------------------------------------


def _dose_rule(reader: _Reader) -> DoseRule:
    basis = DoseBasis(reader.choice("basis", tuple(DoseBasis)))
    if basis is DoseBasis.NASAL_DEVICE:
        rule = _device_dose_rule(reader)
    else:
        rule = DoseRule(
            basis=basis,
            sources=reader.sources() if "sources" in reader.raw else (),
            default_mg_per_kg=_decimal_range(reader.child("default_mg_per_kg", required=False)),
            allowed_mg_per_kg=_decimal_range(reader.child("allowed_mg_per_kg")),
            allowed_fixed_mg=_decimal_range(
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


def _device_dose_rule(reader: _Reader) -> DoseRule:
    device_mg = _required(reader.integer("device_mg", minimum=1))
    allowed = reader.int_list("allowed_doses_mg")
    if not allowed or any(dose % device_mg for dose in allowed):
        raise reader.fail("allowed_doses_mg", f"must be whole multiples of {device_mg} mg")
    first_max = _required(reader.integer("first_session_max_mg", minimum=1))
    if first_max not in allowed:
        raise reader.fail("first_session_max_mg", "must be one of allowed_doses_mg")
    older = reader.child("older_adult", required=False)
    older_rule = None
    if older is not None:
        older_rule = OlderAdultRule(
            from_age_years=_required(older.integer("from_age_years", minimum=1)),
            start_mg=_required(older.integer("start_mg", minimum=1)),
            step_mg=_required(older.integer("step_mg", minimum=1)),
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


def _infusion(reader: _Reader | None) -> Infusion | None:
    if reader is None:
        return None
    allowed = _required(_int_range(reader.child("allowed_minutes")))
    result = Infusion(
        default_minutes=_required(reader.integer("default_minutes", minimum=1)),
        default_sources=reader.sources("default_sources"),
        allowed_minutes=allowed,
    )
    if result.default_minutes not in allowed:
        raise reader.fail("default_minutes", "must lie inside allowed_minutes")
    reader.done()
    return result


def _fasting(reader: _Reader) -> Fasting:
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


def _monitoring(reader: _Reader) -> Monitoring:
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


def _protocol_phase(reader: _Reader) -> ProtocolPhase:
    result = ProtocolPhase(
        name=_required(reader.text("name")),
        frequency=_required(reader.text("frequency")),
        from_week=reader.integer("from_week", required=False, minimum=1),
        to_week=reader.integer("to_week", required=False, minimum=1),
        doses_mg=reader.int_list("doses_mg"),
        sources=reader.sources(),
        note=reader.text("note", required=False),
    )
    reader.done()
    return result


def _schedule_codes(reader: _Reader) -> tuple[str, ...]:
    value = reader._get("course_schedules", False) or []
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        raise reader.fail("course_schedules", "expected a list of schedule codes")
    return tuple(value)


def _protocol(reader: _Reader) -> Protocol:
    route = reader.choice("route", ROUTES)
    indications_raw = reader.raw.get("indications")
    indications = None if indications_raw is None else reader.text_list("indications", INDICATIONS)
    reader.used.add("indications")
    result = Protocol(
        code=_required(reader.text("code")),
        name=_required(reader.text("name")),
        route=route,
        drug=_required(reader.text("drug")),
        indications=indications,
        dose=_dose_rule(_required(reader.child("dose"))),
        infusion=_infusion(reader.child("infusion", required=False)),
        fasting=_fasting(_required(reader.child("fasting"))),
        monitoring=_monitoring(_required(reader.child("monitoring"))),
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


# --------------------------------------------------------------------------------------------
# Schedules and dosing policy
# --------------------------------------------------------------------------------------------


def _schedule_phase(reader: _Reader) -> SchedulePhase:
    result = SchedulePhase(
        name=reader.choice("name", SESSION_PHASES),
        from_week=_required(reader.integer("from_week", minimum=1)),
        to_week=reader.integer("to_week", required=False, minimum=1),
        sessions_per_week=_required(reader.integer("sessions_per_week", minimum=1)),
        every_weeks=_required(reader.integer("every_weeks", minimum=1)),
        every_weeks_if_weekly=reader.integer("every_weeks_if_weekly", required=False, minimum=1),
        sources=reader.sources(),
    )
    if result.to_week is not None and result.to_week < result.from_week:
        raise reader.fail("to_week", "is before from_week")
    reader.done()
    return result


def _check_phases_follow(reader: _Reader, phases: tuple[SchedulePhase, ...]) -> None:
    expected_week = 1
    for index, phase in enumerate(phases):
        if phase.from_week != expected_week:
            raise reader.fail(f"phases[{index}].from_week", f"expected week {expected_week}")
        if phase.to_week is None:
            if index != len(phases) - 1:
                raise reader.fail(f"phases[{index}].to_week", "only the last phase is open")
            return
        expected_week = phase.to_week + 1


def _schedule(reader: _Reader) -> SchedulePattern:
    kind = ScheduleKind(reader.choice("kind", tuple(ScheduleKind)))
    common: dict[str, Any] = {
        "code": _required(reader.text("code")),
        "kind": kind,
        "min_gap_days": _required(reader.integer("min_gap_days", minimum=1)),
        "sources": reader.sources(),
        "clinic_editable": reader.flag("clinic_editable", default=False),
    }
    if kind is ScheduleKind.SPREAD:
        result = SchedulePattern(
            **common,
            phase=reader.choice("phase", SESSION_PHASES),
            sessions=reader.integer("sessions", minimum=1),
            max_span_days=reader.integer("max_span_days", minimum=0),
            target_sessions_per_week=reader.integer("target_sessions_per_week", minimum=1),
        )
    elif kind is ScheduleKind.INTERVAL:
        result = SchedulePattern(
            **common,
            phase=reader.choice("phase", SESSION_PHASES),
            interval_weeks=_int_range(reader.child("interval_weeks")),
            count=_int_range(reader.child("count")),
        )
    else:
        phases = tuple(_schedule_phase(child) for child in reader.children("phases"))
        _check_phases_follow(reader, phases)
        open_ended = phases[-1].to_week is None
        horizon = _int_range(reader.child("horizon_weeks", required=open_ended))
        if open_ended and (horizon is None or horizon.default is None):
            raise reader.fail("horizon_weeks", "an open-ended schedule needs a default horizon")
        result = SchedulePattern(**common, phases=phases, horizon_weeks=horizon)
    reader.done()
    return result


def _dosing_policy(reader: _Reader) -> DosingPolicy:
    reader.integer("version", minimum=1)
    max_age = _required(reader.child("weight_max_age_days"))
    result = DosingPolicy(
        weight_kg=_required(_decimal_range(reader.child("weight_kg"))),
        weight_max_age_days=_required(max_age.integer("value", minimum=1)),
        weight_max_age_sources=max_age.sources(),
        weight_max_age_clinic_editable=max_age.flag("clinic_editable", default=False),
        dose_increment_mg=reader.decimal("dose_increment_mg"),
        rate_increment_mg_per_min=reader.decimal("rate_increment_mg_per_min"),
        rounding_sources=reader.sources("rounding_sources"),
        percent_increment=reader.decimal("percent_increment"),
    )
    max_age.done()
    reader.done()
    return result


def _unique(items: list[Any], what: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for item in items:
        if item.code in result:
            raise CatalogError(f"duplicate {what} code {item.code!r}")
        result[item.code] = item
    return result


def _read_yaml(directory: Path | None, name: str) -> Any:
    if directory is None:
        text = resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8")
    else:
        text = (directory / name).read_text(encoding="utf-8")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CatalogError(f"{name}: not valid YAML ({error})") from None


def load_catalog(directory: Path | None = None) -> Catalog:
    """Load and validate ``protocols.yaml``, ``schedules.yaml`` and ``dosing_policy.yaml``.

    Without ``directory``, the shipped data (use :func:`catalog` for the cached copy).
    Raises :class:`CatalogError` naming the file position of the first problem.
    """
    protocols_doc = _Reader(_read_yaml(directory, "protocols.yaml"), "protocols.yaml")
    protocols_doc.integer("version", minimum=1)
    protocols_doc.text("reference")
    protocol_list = [_protocol(child) for child in protocols_doc.children("protocols")]
    protocols_doc.done()

    schedules_doc = _Reader(_read_yaml(directory, "schedules.yaml"), "schedules.yaml")
    schedules_doc.integer("version", minimum=1)
    week = _required(schedules_doc.child("working_week"))
    min_working_days = _required(week.integer("min_distinct_days", minimum=1))
    min_working_days_sources = week.sources()
    week.flag("clinic_editable", default=False)
    week.done()
    schedule_list = [_schedule(child) for child in schedules_doc.children("schedules")]
    schedules_doc.done()

    policy = _dosing_policy(_Reader(_read_yaml(directory, "dosing_policy.yaml"), "dosing_policy"))

    by_code = _unique(protocol_list, "protocol")
    schedules_by_code = _unique(schedule_list, "schedule")
    for protocol in protocol_list:
        missing = [code for code in protocol.course_schedules if code not in schedules_by_code]
        if missing:
            raise CatalogError(f"protocol {protocol.code!r}: unknown course_schedules {missing}")
    return Catalog(
        protocols=MappingProxyType(by_code),
        schedules=MappingProxyType(schedules_by_code),
        dosing_policy=policy,
        min_working_days=min_working_days,
        min_working_days_sources=min_working_days_sources,
    )


@cache
def catalog() -> Catalog:
    """The shipped catalog, loaded and validated once."""
    return load_catalog()


def parse_protocol(raw: Mapping[str, Any], where: str = "protocol") -> Protocol:
    """Validate one protocol given in the shape of a ``protocols.yaml`` entry.

    For protocols kept elsewhere than the shipped file (the clinic's database copy): the same
    checks as the file gets (sources present, min not above max, default inside the allowed
    range, esketamine only in whole devices and never for home use), plus ``course_schedules``
    naming shipped schedule patterns. Raises :class:`CatalogError` naming the first problem.
    """
    result = _protocol(_Reader(dict(raw), where))
    missing = [code for code in result.course_schedules if code not in catalog().schedules]
    if missing:
        raise CatalogError(f"{where}.course_schedules: unknown schedule codes {missing}")
    return result


def protocols() -> tuple[Protocol, ...]:
    """All shipped protocols, in file order."""
    return tuple(catalog().protocols.values())


def get_protocol(code: str) -> Protocol:
    """The protocol with ``code``; :class:`UnknownCodeError` if there is none."""
    found = catalog().protocols.get(code) if isinstance(code, str) else None
    if found is None:
        raise UnknownCodeError("protocol", code, tuple(catalog().protocols))
    return found


def get_schedule(code: str) -> SchedulePattern:
    """The schedule pattern with ``code``; :class:`UnknownCodeError` if there is none."""
    found = catalog().schedules.get(code) if isinstance(code, str) else None
    if found is None:
        raise UnknownCodeError("schedule", code, tuple(catalog().schedules))
    return found
