"""The monitoring schedule: when vital signs are expected during and after a session.

The schedules are data, ``data/monitoring_schedules.yaml``, one per route the reference gives
one for (IV infusion, esketamine nasal spray), each check naming its source.
:func:`monitoring_checks` lists a session's expected checks and says which are done, due,
overdue or upcoming; the timing tolerance is an editable clinic value [U].

Pure module: no Django import. Readings are :class:`~ketaclinic.charting.vitals.VitalReading`
series, oldest first, timed in minutes from the session start.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from ketaclinic.charting.data_files import PolicyError, decimal, load_yaml, require
from ketaclinic.charting.vitals import MEASUREMENT_FIELDS, VitalReading, as_decimal

ANCHORS = ("dose_start", "dose_end", "leaving")
CHECK_STATUSES = ("done", "upcoming", "due", "overdue")


@dataclass(frozen=True)
class MonitoringCheck:
    """A check in a route's schedule (see ``data/monitoring_schedules.yaml``)."""

    code: str
    label: str
    anchor: str
    requires: tuple[str, ...]
    source: str
    offset_minutes: Decimal = Decimal(0)
    every_minutes: Decimal | None = None
    until: str | None = None
    for_minutes: Decimal | None = None
    window_before_minutes: Decimal | None = None
    window_after_minutes: Decimal = Decimal(0)


@dataclass(frozen=True)
class MonitoringSchedule:
    """Expected vital-sign checks for one route."""

    route: str
    label: str
    checks: tuple[MonitoringCheck, ...]


@dataclass(frozen=True)
class MonitoringPolicy:
    """All routes' schedules and the timing tolerance (an editable [U] value)."""

    schedules: Mapping[str, MonitoringSchedule]
    tolerance_minutes: Decimal
    tolerance_basis: str
    source: str

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> MonitoringPolicy:
        """Build schedules from the shape of ``data/monitoring_schedules.yaml``."""
        tolerance = decimal(require(mapping, "tolerance_minutes", "schedules"), "tolerance")
        if tolerance < 0:
            raise PolicyError("schedules: tolerance_minutes must not be negative")
        schedules = {
            route: MonitoringSchedule(
                route=route,
                label=str(require(spec, "label", route)),
                checks=tuple(
                    _check_from(item, tolerance, f"{route}.checks[{i}]")
                    for i, item in enumerate(require(spec, "checks", route))
                ),
            )
            for route, spec in require(mapping, "schedules", "schedules").items()
        }
        return cls(
            schedules=MappingProxyType(schedules),
            tolerance_minutes=tolerance,
            tolerance_basis=str(require(mapping, "tolerance_basis", "schedules")),
            source=str(require(mapping, "source", "schedules")),
        )

    def for_route(self, route: str) -> MonitoringSchedule:
        """The schedule for ``route``; :class:`PolicyError` when none is defined."""
        try:
            return self.schedules[route]
        except KeyError:
            raise PolicyError(
                f"no monitoring schedule for route {route!r}; the reference gives one for "
                f"{', '.join(self.schedules)} only"
            ) from None


def _optional_decimal(item: Mapping[str, Any], key: str, where: str) -> Decimal | None:
    value = item.get(key)
    return None if value is None else decimal(value, f"{where}.{key}")


def _check_from(item: Mapping[str, Any], tolerance: Decimal, where: str) -> MonitoringCheck:
    anchor = require(item, "anchor", where)
    until = item.get("until")
    for name in (anchor, until):
        if name is not None and name not in ANCHORS:
            raise PolicyError(f"{where}: anchor {name!r} is not one of {', '.join(ANCHORS)}")
    every = _optional_decimal(item, "every_minutes", where)
    for_minutes = _optional_decimal(item, "for_minutes", where)
    if every is not None and (every <= 0 or (until is None) == (for_minutes is None)):
        raise PolicyError(
            f"{where}: a repeating check needs every_minutes > 0 and one of until or for_minutes"
        )
    requires = tuple(require(item, "requires", where))
    if not requires or any(name not in MEASUREMENT_FIELDS for name in requires):
        raise PolicyError(f"{where}: requires must list vital-sign fields")
    before = item.get("window_before_minutes", tolerance)
    after = item.get("window_after_minutes", tolerance)
    return MonitoringCheck(
        code=str(require(item, "code", where)),
        label=str(require(item, "label", where)),
        anchor=anchor,
        requires=requires,
        source=str(require(item, "source", where)),
        offset_minutes=decimal(item.get("offset_minutes", 0), f"{where}.offset_minutes"),
        every_minutes=every,
        until=until,
        for_minutes=for_minutes,
        window_before_minutes=None if before is None else decimal(before, where),
        window_after_minutes=decimal(after, where),
    )


def load_monitoring(name: str = "monitoring_schedules.yaml") -> MonitoringPolicy:
    """Load the monitoring schedules shipped in ``charting/data``."""
    return MonitoringPolicy.from_mapping(load_yaml(name))


DEFAULT_MONITORING = load_monitoring()


@dataclass(frozen=True)
class ScheduledCheck:
    """One expected check and where it stands at ``now``.

    ``status``: ``done`` (a reading in the window satisfied it, ``reading_minute``),
    ``upcoming`` (its window has not opened, or its anchor is not known yet, in which case
    ``due_minute`` is ``None``), ``due`` (window open now) or ``overdue`` (window closed).
    """

    code: str
    label: str
    due_minute: Decimal | None
    window_start_minute: Decimal | None
    window_end_minute: Decimal | None
    status: str
    reading_minute: Decimal | None
    source: str


def _due_minutes(
    check: MonitoringCheck, anchors: Mapping[str, Decimal | None], now_minute: Decimal
) -> list[Decimal] | None:
    """When ``check`` falls due; ``None`` when its anchor is not known yet."""
    anchor = anchors[check.anchor]
    if anchor is None:
        return None
    first = anchor + check.offset_minutes
    if check.every_minutes is None:
        return [first]
    if check.for_minutes is not None:
        last, inclusive = anchor + check.for_minutes, True
    elif check.until is not None and (until := anchors[check.until]) is not None:
        last, inclusive = until, False
    else:
        # The closing anchor is not known yet (infusion still running): list the checks up
        # to now and the next one, so the chart always shows what comes next.
        last, inclusive = now_minute + check.every_minutes, False
    times, minute = [], first
    while minute < last or (inclusive and minute == last):
        times.append(minute)
        minute += check.every_minutes
    return times


def _window(check: MonitoringCheck, due: Decimal) -> tuple[Decimal, Decimal]:
    start = Decimal(0) if check.window_before_minutes is None else due - check.window_before_minutes
    return max(start, Decimal(0)), due + check.window_after_minutes


def _status(window: tuple[Decimal, Decimal], now_minute: Decimal) -> str:
    if now_minute < window[0]:
        return "upcoming"
    return "due" if now_minute <= window[1] else "overdue"


def monitoring_checks(
    route: str,
    *,
    dose_start_minute: Decimal | int,
    now_minute: Decimal | int,
    dose_end_minute: Decimal | int | None = None,
    leaving_minute: Decimal | int | None = None,
    readings: Sequence[VitalReading] = (),
    policy: MonitoringPolicy = DEFAULT_MONITORING,
) -> list[ScheduledCheck]:
    """Expected vital-sign checks for a session and which are done, due or overdue.

    Parameters
    ----------
    route
        ``iv`` or ``esketamine`` (the routes the reference gives a schedule for).
    dose_start_minute, dose_end_minute
        Infusion start and end (an early stop is the end), or first and last esketamine
        device, in minutes from the session start. ``dose_end_minute`` is ``None`` while
        the infusion runs: during-infusion checks are then listed up to the next one, and
        each after-infusion check appears once, ``upcoming`` without a time.
    leaving_minute
        Planned or actual discharge minute; ``None`` leaves "before leaving" checks
        ``upcoming`` without a time.
    readings
        Readings taken so far, oldest first. Each satisfies at most one check: checks are
        matched in due order to the unused reading nearest their due minute that measures
        everything the check requires inside its window.
    now_minute
        The present, in minutes from the session start.
    """
    anchors = {
        "dose_start": as_decimal(dose_start_minute, "dose_start_minute"),
        "dose_end": None
        if dose_end_minute is None
        else as_decimal(dose_end_minute, "dose_end_minute"),
        "leaving": None if leaving_minute is None else as_decimal(leaving_minute, "leaving_minute"),
    }
    now = as_decimal(now_minute, "now_minute")
    planned: list[tuple[MonitoringCheck, Decimal | None]] = []
    for check in policy.for_route(route).checks:
        times = _due_minutes(check, anchors, now)
        planned.extend((check, t) for t in (times if times is not None else [None]))
    planned.sort(key=lambda item: (item[1] is None, item[1] or Decimal(0)))
    used: set[int] = set()
    return [_place(check, due, readings, used, now) for check, due in planned]


def _place(
    check: MonitoringCheck,
    due: Decimal | None,
    readings: Sequence[VitalReading],
    used: set[int],
    now: Decimal,
) -> ScheduledCheck:
    if due is None:
        return ScheduledCheck(
            check.code, check.label, None, None, None, "upcoming", None, check.source
        )
    window = _window(check, due)
    candidates = [
        i
        for i, reading in enumerate(readings)
        if i not in used
        and window[0] <= reading.minute <= window[1]
        and all(reading.value(name) is not None for name in check.requires)
    ]
    if candidates:
        chosen = min(candidates, key=lambda i: abs(readings[i].minute - due))
        used.add(chosen)
        status, taken = "done", readings[chosen].minute
    else:
        status, taken = _status(window, now), None
    return ScheduledCheck(
        check.code, check.label, due, window[0], window[1], status, taken, check.source
    )
