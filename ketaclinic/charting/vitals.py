"""Vital-sign readings and the limits of what a human body can show.

A reading is timed in ``minute`` from the session start, so a series of readings is the
session's vital-sign chart, oldest first. A reading outside the plausibility limits is a
typing or device error: it is rejected with the field and the rule it broke, never stored
(DESIGN.md, "Errors"). The limits are data, ``data/plausibility_limits.yaml``, taken from
REFERENCE.md section 3.

Pure module: no Django import. Numbers are held as ``Decimal`` so that comparisons with
thresholds and the minutes between readings are exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).parent / "data"

#: Every measurement a reading may carry, in chart order.
MEASUREMENT_FIELDS = (
    "systolic_mmhg",
    "diastolic_mmhg",
    "heart_rate_bpm",
    "spo2_pct",
    "resp_rate_per_min",
    "temperature_c",
)

_SECONDS_PER_MINUTE = Decimal(60)


class ImplausibleReading(ValueError):
    """A reading that no body can show, or that is not a reading at all.

    ``field`` names the offending field (``"spo2_pct"``), ``message`` the rule it broke
    (``"spo2_pct 140 is outside 50–100 %"``) and ``index`` its place in a series, when the
    reading came from one, so an API can answer 422 with ``readings[2].spo2_pct``.
    """

    def __init__(self, field: str, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.index = index

    def at(self, index: int) -> ImplausibleReading:
        """Return the same problem located at ``index`` in a series of readings."""
        return ImplausibleReading(self.field, self.message, index)

    @property
    def location(self) -> str:
        """Where the problem is, e.g. ``readings[2].spo2_pct`` or ``spo2_pct``."""
        if self.index is None:
            return self.field
        return f"readings[{self.index}].{self.field}"

    def __repr__(self) -> str:
        return f"ImplausibleReading({self.field!r}, {self.message!r}, index={self.index!r})"


def format_number(value: Decimal) -> str:
    """Show a number as a clinician writes it: ``140``, ``37.5``, never ``1.4E+2``."""
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


def as_decimal(value: Any, field: str) -> Decimal:
    """Convert a JSON or Python number to ``Decimal``, refusing anything else.

    Floats go through ``str`` so that ``37.2`` stays ``37.2`` rather than its binary
    neighbour. Booleans are refused although Python counts them as integers: ``true`` is
    never a blood pressure.
    """
    if type(value) is int:  # the common case, and exact (bool is a subclass, not int)
        return Decimal(value)
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ImplausibleReading(field, f"{field} must be a number, not {value!r}")
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite():
        raise ImplausibleReading(field, f"{field} must be a finite number, not {value!r}")
    return number


@dataclass(frozen=True)
class VitalReading:
    """One set of vital signs taken at ``minute`` from the session start.

    Every measurement is optional: a pulse oximeter may give SpO2 and heart rate alone, a
    cuff gives blood pressure. Values are converted to ``Decimal`` on construction; range
    checks are separate (:func:`reading_problems`), so a chart can list every problem.
    """

    minute: Decimal
    systolic_mmhg: Decimal | None = None
    diastolic_mmhg: Decimal | None = None
    heart_rate_bpm: Decimal | None = None
    spo2_pct: Decimal | None = None
    resp_rate_per_min: Decimal | None = None
    temperature_c: Decimal | None = None

    def __post_init__(self) -> None:
        # Frozen, so conversion writes through object.__setattr__ once, at construction.
        object.__setattr__(self, "minute", as_decimal(self.minute, "minute"))
        for name in MEASUREMENT_FIELDS:
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, as_decimal(value, name))

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> VitalReading:
        """Build a reading from a JSON-like mapping, refusing unknown or missing keys."""
        if not isinstance(mapping, Mapping):
            raise ImplausibleReading("reading", f"a reading must be an object, not {mapping!r}")
        known = {f.name for f in fields(cls)}
        for key in mapping:
            if key not in known:
                raise ImplausibleReading(str(key), f"{key} is not a vital sign this chart records")
        if mapping.get("minute") is None:
            raise ImplausibleReading("minute", "minute (from the session start) is required")
        return cls(**{key: value for key, value in mapping.items() if value is not None})

    def value(self, field: str) -> Decimal | None:
        """The measured value of ``field``, or ``None`` when this reading did not measure it."""
        return getattr(self, field)

    def measures(self, field_names: Iterable[str]) -> bool:
        """Whether this reading measured at least one of ``field_names``."""
        return any(self.value(name) is not None for name in field_names)

    def to_mapping(self) -> dict[str, Decimal]:
        """The reading as a mapping, leaving out what was not measured."""
        values = {"minute": self.minute}
        values.update({n: v for n in MEASUREMENT_FIELDS if (v := self.value(n)) is not None})
        return values


@dataclass(frozen=True)
class Limit:
    """Inclusive plausible range of one measurement; ``label`` names it for people."""

    field: str
    low: Decimal
    high: Decimal
    unit: str
    label: str = ""

    def problem(self, value: Decimal) -> ImplausibleReading | None:
        """The problem with ``value``, or ``None`` when it is plausible."""
        if self.low <= value <= self.high:
            return None
        return ImplausibleReading(
            self.field,
            f"{self.label or self.field} {format_number(value)} is outside "
            f"{format_number(self.low)}–{format_number(self.high)} {self.unit}",
        )


@dataclass(frozen=True)
class PlausibilityLimits:
    """The limits every stored reading must respect, with their source."""

    limits: tuple[Limit, ...]
    diastolic_below_systolic: bool
    source: str

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> PlausibilityLimits:
        """Build limits from the shape of ``data/plausibility_limits.yaml``."""
        limits = []
        for item in mapping["limits"]:
            field = item["field"]
            if field not in MEASUREMENT_FIELDS:
                raise ValueError(f"plausibility limit for unknown field {field!r}")
            low, high = as_decimal(item["low"], field), as_decimal(item["high"], field)
            if low >= high:
                raise ValueError(f"plausibility limit for {field}: low must be below high")
            label = str(item.get("label") or field)
            limits.append(Limit(field, low, high, str(item["unit"]), label))
        return cls(
            limits=tuple(limits),
            diastolic_below_systolic=bool(mapping.get("diastolic_below_systolic", True)),
            source=str(mapping["source"]),
        )

    def for_field(self, field: str) -> Limit | None:
        """The limit for ``field``, or ``None`` when the policy sets none."""
        return self._by_field.get(field)

    @cached_property
    def _by_field(self) -> dict[str, Limit]:  # every stored reading asks, field by field
        return {limit.field: limit for limit in self.limits}


def load_limits(path: Path = DATA_DIR / "plausibility_limits.yaml") -> PlausibilityLimits:
    """Load plausibility limits from a YAML file."""
    with path.open(encoding="utf-8") as handle:
        return PlausibilityLimits.from_mapping(yaml.safe_load(handle))


DEFAULT_LIMITS = load_limits()


def _diastolic_not_below(reading: VitalReading) -> ImplausibleReading | None:
    systolic, diastolic = reading.systolic_mmhg, reading.diastolic_mmhg
    if systolic is None or diastolic is None or diastolic < systolic:
        return None
    return ImplausibleReading(
        "diastolic_mmhg",
        f"Diastolic blood pressure {format_number(diastolic)} must be below "
        f"systolic {format_number(systolic)}",
    )


def reading_problems(
    reading: VitalReading, limits: PlausibilityLimits = DEFAULT_LIMITS
) -> tuple[ImplausibleReading, ...]:
    """Every reason ``reading`` cannot be stored; empty when it is plausible.

    A diastolic pressure without a systolic one is fine; when both are present the
    diastolic must be below the systolic (REFERENCE.md section 3).
    """
    problems: list[ImplausibleReading] = []
    if reading.minute < 0:
        problems.append(
            ImplausibleReading(
                "minute",
                f"minute {format_number(reading.minute)} is before the session start (minute 0)",
            )
        )
    if not reading.measures(MEASUREMENT_FIELDS):
        problems.append(ImplausibleReading("reading", "a reading needs at least one vital sign"))
    for name in MEASUREMENT_FIELDS:  # every stored reading passes here: kept lean
        if (value := getattr(reading, name)) is None:
            continue
        if (limit := limits.for_field(name)) is not None and (problem := limit.problem(value)):
            problems.append(problem)
    if limits.diastolic_below_systolic and (problem := _diastolic_not_below(reading)):
        problems.append(problem)
    return tuple(problems)


def validate_reading(
    reading: VitalReading, limits: PlausibilityLimits = DEFAULT_LIMITS
) -> VitalReading:
    """Return ``reading`` unchanged, or raise its first :class:`ImplausibleReading`."""
    problems = reading_problems(reading, limits)
    if problems:
        raise problems[0]
    return reading


def validate_series(
    readings: Sequence[VitalReading], limits: PlausibilityLimits = DEFAULT_LIMITS
) -> tuple[VitalReading, ...]:
    """Validate every reading and their order (oldest first; equal minutes allowed).

    Raises the first problem, located at its index in the series.
    """
    previous: VitalReading | None = None
    for index, reading in enumerate(readings):
        try:
            validate_reading(reading, limits)
        except ImplausibleReading as problem:
            raise problem.at(index) from None
        if previous is not None and reading.minute < previous.minute:
            raise ImplausibleReading(
                "minute",
                f"readings must be oldest first: minute {format_number(reading.minute)} "
                f"comes after minute {format_number(previous.minute)}",
                index,
            )
        previous = reading
    return tuple(readings)


def parse_readings(
    items: Any, limits: PlausibilityLimits = DEFAULT_LIMITS
) -> tuple[VitalReading, ...]:
    """Turn a JSON list of reading objects into validated readings, oldest first."""
    if not isinstance(items, list | tuple):
        raise ImplausibleReading("readings", "readings must be a list, oldest first")
    readings = []
    for index, item in enumerate(items):
        try:
            readings.append(VitalReading.from_mapping(item))
        except ImplausibleReading as problem:
            raise problem.at(index) from None
    return validate_series(readings, limits)


def minute_from(taken_at: datetime, session_started_at: datetime) -> Decimal:
    """Minutes from the session start to ``taken_at``, exact to the microsecond.

    Both times must be timezone-aware (DESIGN.md, "Units and time").
    """
    if taken_at.tzinfo is None or session_started_at.tzinfo is None:
        raise ValueError("minute_from needs timezone-aware datetimes")
    elapsed = taken_at - session_started_at
    seconds = Decimal(elapsed.days * 86_400 + elapsed.seconds) + Decimal(
        elapsed.microseconds
    ) / Decimal(1_000_000)
    return seconds / _SECONDS_PER_MINUTE
