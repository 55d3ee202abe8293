"""The protocol catalog's entries as frozen dataclasses: protocols, schedule patterns, policy.

Pure Python, no Django. What each field means is documented on its dataclass; the values come
from ``protocols/data/*.yaml`` (read by :mod:`ketaclinic.protocols.catalog`), each with the
sources it was transcribed from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

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
    """A schedule pattern; which fields are set depends on ``kind``. ``label`` is what pages
    show (the code is for the API and the records)."""

    code: str
    label: str
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
