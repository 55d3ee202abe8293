"""Total drug delivered in a session, computed only from the administration record.

The dose given is never typed: it is derived from what the chart recorded as it happened.

- An **infusion** is a sequence of events: ``start`` (with a rate), ``rate_change`` (a new
  rate; the segments are consecutive), ``pause``, ``resume`` (at the rate before the pause
  unless a new one is given) and ``stop`` (at the planned end or early). Delivered dose is
  the sum over running segments of rate (mg/min) x minutes.
- A **bolus** is a dose in mg at a minute.
- An **esketamine device** delivers 28 mg; the label asks for 5 min rest between devices
  (REFERENCE.md section 1, ``data/administration.yaml``). Devices used closer together are
  reported as warnings naming both devices; they still count toward the total, because they
  were given.

Arithmetic is exact ``Decimal``; only the final figures are rounded, to 0.01 mg half up
(``data/administration.yaml``), and the total is rounded from the exact sum, not summed
from rounded parts. Minutes are from the session start.

Pure module: no Django import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

from ketaclinic.charting.vitals import DATA_DIR, format_number

INFUSION_EVENT_KINDS = ("start", "rate_change", "pause", "resume", "stop")


class AdministrationError(ValueError):
    """An administration record that cannot be totalled; ``field`` says where."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _positive(value: Any, field: str) -> Decimal:
    number = _number(value, field)
    if number <= 0:
        raise AdministrationError(field, f"{field} must be above 0, not {format_number(number)}")
    return number


def _number(value: Any, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise AdministrationError(field, f"{field} must be a number, not {value!r}")
    try:
        # A float goes through str so that 0.875 stays 0.875, not its binary neighbour.
        number = Decimal(str(value) if isinstance(value, float) else value)
    except ArithmeticError:
        raise AdministrationError(field, f"{field} {value!r} is not a number") from None
    if not number.is_finite():
        raise AdministrationError(field, f"{field} must be finite")
    return number


def _minute(value: Any, field: str) -> Decimal:
    minute = _number(value, field)
    if minute < 0:
        raise AdministrationError(
            field, f"{field} {format_number(minute)} is before the session start"
        )
    return minute


@dataclass(frozen=True)
class AdministrationFacts:
    """Device size, rest between devices and rounding, each from the reference."""

    device_mg: Decimal
    device_source: str
    rest_between_devices_minutes: Decimal
    rest_source: str
    total_quantum_mg: Decimal

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> AdministrationFacts:
        """Build from the shape of ``data/administration.yaml``."""
        esketamine = mapping["esketamine"]
        return cls(
            device_mg=_positive(esketamine["device_mg"], "device_mg"),
            device_source=str(esketamine["device_source"]),
            rest_between_devices_minutes=_positive(
                esketamine["rest_between_devices_minutes"], "rest_between_devices_minutes"
            ),
            rest_source=str(esketamine["rest_source"]),
            total_quantum_mg=_positive(mapping["total_quantum_mg"], "total_quantum_mg"),
        )


def load_facts(path: Path = DATA_DIR / "administration.yaml") -> AdministrationFacts:
    """Load administration facts from YAML."""
    with path.open(encoding="utf-8") as handle:
        return AdministrationFacts.from_mapping(yaml.safe_load(handle))


DEFAULT_FACTS = load_facts()


@dataclass(frozen=True)
class InfusionEvent:
    """A charted infusion event at ``minute``; ``rate_mg_per_min`` for start/rate change/resume."""

    minute: Decimal
    kind: str
    rate_mg_per_min: Decimal | None = None

    def __post_init__(self) -> None:
        if self.kind not in INFUSION_EVENT_KINDS:
            raise AdministrationError(
                "kind",
                f"infusion event {self.kind!r} is not one of {', '.join(INFUSION_EVENT_KINDS)}",
            )
        object.__setattr__(self, "minute", _minute(self.minute, "minute"))
        if self.rate_mg_per_min is not None:
            if self.kind in ("pause", "stop"):
                raise AdministrationError("rate_mg_per_min", f"{self.kind} takes no rate")
            rate = _positive(self.rate_mg_per_min, "rate_mg_per_min")
            object.__setattr__(self, "rate_mg_per_min", rate)


@dataclass(frozen=True)
class Bolus:
    """A bolus of ``dose_mg`` given at ``minute``."""

    minute: Decimal
    dose_mg: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "minute", _minute(self.minute, "minute"))
        object.__setattr__(self, "dose_mg", _positive(self.dose_mg, "dose_mg"))


@dataclass(frozen=True)
class NasalDevice:
    """One esketamine nasal device used at ``minute``; ``name`` identifies it on the chart."""

    minute: Decimal
    name: str | None = None
    device_mg: Decimal = DEFAULT_FACTS.device_mg

    def __post_init__(self) -> None:
        object.__setattr__(self, "minute", _minute(self.minute, "minute"))
        object.__setattr__(self, "device_mg", _positive(self.device_mg, "device_mg"))


@dataclass(frozen=True)
class AdministrationRecord:
    """Everything given in one session, as charted."""

    infusion: tuple[InfusionEvent, ...] = ()
    boluses: tuple[Bolus, ...] = ()
    devices: tuple[NasalDevice, ...] = ()


@dataclass(frozen=True)
class RunningSegment:
    """An interval during which the pump ran at one rate."""

    start_minute: Decimal
    end_minute: Decimal
    rate_mg_per_min: Decimal

    @property
    def minutes(self) -> Decimal:
        """How long the segment ran."""
        return self.end_minute - self.start_minute

    @property
    def dose_mg(self) -> Decimal:
        """Exact dose delivered in this segment."""
        return self.rate_mg_per_min * self.minutes


@dataclass(frozen=True)
class DeviceRestWarning:
    """Two esketamine devices used less than the rest interval apart."""

    first: str
    second: str
    gap_minutes: Decimal
    message: str
    source: str


@dataclass(frozen=True)
class DoseTotal:
    """Delivered dose, rounded for the chart, with the exact figure and the working."""

    total_mg: Decimal
    infusion_mg: Decimal
    bolus_mg: Decimal
    esketamine_mg: Decimal
    exact_total_mg: Decimal
    infusion_running_minutes: Decimal
    segments: tuple[RunningSegment, ...]
    warnings: tuple[DeviceRestWarning, ...]
    infusion_complete: bool


def _event_error(index: int, message: str) -> AdministrationError:
    return AdministrationError(f"infusion[{index}]", message)


def infusion_segments(
    events: Sequence[InfusionEvent], *, until_minute: Decimal | int | None = None
) -> tuple[tuple[RunningSegment, ...], bool]:
    """Running segments of an infusion record, and whether it has been stopped.

    Parameters
    ----------
    events
        The infusion events, oldest first: ``start`` first, at most one ``stop`` and
        nothing after it.
    until_minute
        For an infusion without a ``stop``: the minute to total up to (the dose so far).

    Raises
    ------
    AdministrationError
        For events out of order or out of sequence (``resume`` while running, a rate change
        while paused, ...), a missing rate, or a running infusion without ``until_minute``.
    """
    segments: list[RunningSegment] = []
    # The rate is only read while running, and running always follows a start with a rate.
    state, rate, since = "idle", Decimal(0), Decimal(0)
    previous = Decimal(0)
    for index, event in enumerate(events):
        if event.minute < previous:
            raise _event_error(
                index,
                f"events must be oldest first: minute {format_number(event.minute)} "
                f"after minute {format_number(previous)}",
            )
        previous = event.minute
        if state == "running":
            # Whatever happens next closes the segment running at the current rate.
            segments.append(RunningSegment(since, event.minute, rate))
        state, rate = _next_state(index, state, rate, event)
        since = event.minute
    if state == "idle" and events:
        raise _event_error(0, "an infusion record begins with start")
    stopped = state == "stopped"
    if state in ("running", "paused"):
        if until_minute is None:
            raise AdministrationError(
                "until_minute",
                "the infusion has not been stopped; give until_minute for the dose so far",
            )
        until = _minute(until_minute, "until_minute")
        if until < previous:
            raise AdministrationError(
                "until_minute",
                f"until_minute {format_number(until)} is before the last infusion event "
                f"(minute {format_number(previous)})",
            )
        if state == "running":
            segments.append(RunningSegment(since, until, rate))
    return tuple(s for s in segments if s.minutes > 0), stopped


def _next_state(index: int, state: str, rate: Decimal, event: InfusionEvent) -> tuple[str, Decimal]:
    allowed = {
        "idle": ("start",),
        "running": ("rate_change", "pause", "stop"),
        "paused": ("resume", "stop"),
        "stopped": (),
    }[state]
    if event.kind not in allowed:
        raise _event_error(index, f"{event.kind} is not possible while the infusion is {state}")
    if event.kind in ("start", "rate_change") and event.rate_mg_per_min is None:
        raise _event_error(index, f"{event.kind} needs rate_mg_per_min")
    if event.kind in ("start", "rate_change", "resume"):
        return "running", event.rate_mg_per_min or rate
    return ("paused" if event.kind == "pause" else "stopped"), rate


def device_rest_warnings(
    devices: Sequence[NasalDevice], facts: AdministrationFacts = DEFAULT_FACTS
) -> tuple[DeviceRestWarning, ...]:
    """Warn about consecutive devices used less than the rest interval apart.

    The gap is measured between the charted minutes of use. Devices are named by their
    ``name`` or, failing that, ``device N`` in order of use (1-based).
    """
    ordered = sorted(enumerate(devices), key=lambda item: item[1].minute)
    names = {i: device.name or f"device {place}" for place, (i, device) in enumerate(ordered, 1)}
    warnings = []
    for (i, first), (j, second) in pairwise(ordered):
        gap = second.minute - first.minute
        if gap < facts.rest_between_devices_minutes:
            message = (
                f"{names[j]} (minute {format_number(second.minute)}) was used "
                f"{format_number(gap)} min after {names[i]} "
                f"(minute {format_number(first.minute)}); "
                f"rest {format_number(facts.rest_between_devices_minutes)} min between devices"
            )
            warnings.append(DeviceRestWarning(names[i], names[j], gap, message, facts.rest_source))
    return tuple(warnings)


def _rounded(value: Decimal, facts: AdministrationFacts) -> Decimal:
    return value.quantize(facts.total_quantum_mg, rounding=ROUND_HALF_UP)


def delivered(
    record: AdministrationRecord,
    *,
    until_minute: Decimal | int | None = None,
    facts: AdministrationFacts = DEFAULT_FACTS,
) -> DoseTotal:
    """Total dose delivered by ``record``: infusion + boluses + esketamine devices.

    ``until_minute`` is needed only while an infusion is still running (dose so far);
    ``infusion_complete`` then says ``False``.
    """
    segments, stopped = infusion_segments(record.infusion, until_minute=until_minute)
    infusion_mg = sum((s.dose_mg for s in segments), Decimal(0))
    bolus_mg = sum((b.dose_mg for b in record.boluses), Decimal(0))
    esketamine_mg = sum((d.device_mg for d in record.devices), Decimal(0))
    exact = infusion_mg + bolus_mg + esketamine_mg
    return DoseTotal(
        total_mg=_rounded(exact, facts),
        infusion_mg=_rounded(infusion_mg, facts),
        bolus_mg=_rounded(bolus_mg, facts),
        esketamine_mg=_rounded(esketamine_mg, facts),
        exact_total_mg=exact,
        infusion_running_minutes=sum((s.minutes for s in segments), Decimal(0)),
        segments=segments,
        warnings=device_rest_warnings(record.devices, facts),
        infusion_complete=stopped or not record.infusion,
    )
