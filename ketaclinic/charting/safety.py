"""Session safety: vital-sign alerts, the monitoring schedule, discharge and side effects.

Everything clinical here is data in ``charting/data/``, each entry naming its source in
REFERENCE.md. The vital-sign thresholds are a *default clinic policy* [U], not a guideline:
no authoritative stop/hold values exist, so every alert carries the basis text that says so,
and a clinic edits the thresholds (the database copy is built with
:meth:`VitalSignPolicy.from_mapping`).

The software advises; a named clinician decides. Nothing here stops an infusion or signs a
discharge: it lists alerts, due checks and unmet criteria.

Pure module: no Django import. Readings are :class:`~ketaclinic.charting.vitals.VitalReading`
series, oldest first, timed in minutes from the session start.

References
----------
REFERENCE.md section 3 (default vital-sign policy, monitoring, discharge, side effects).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import yaml

from ketaclinic.charting.vitals import (
    DATA_DIR,
    DEFAULT_LIMITS,
    MEASUREMENT_FIELDS,
    ImplausibleReading,
    PlausibilityLimits,
    VitalReading,
    as_decimal,
    format_number,
    parse_readings,
    validate_series,
)

LEVELS = ("warning", "critical")

_OPERATORS: Mapping[str, Callable[[Decimal, Decimal], bool]] = MappingProxyType(
    {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
)


class PolicyError(ValueError):
    """A policy, schedule or vocabulary mapping that cannot be used; says what and where."""


def _load_yaml(name: str) -> Any:
    with (DATA_DIR / name).open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _require(mapping: Mapping[str, Any], key: str, where: str) -> Any:
    if not isinstance(mapping, Mapping) or key not in mapping:
        raise PolicyError(f"{where}: {key!r} is required")
    return mapping[key]


def _decimal(value: Any, where: str) -> Decimal:
    try:
        return as_decimal(value, where)
    except ValueError as error:
        raise PolicyError(f"{where}: {error}") from None


def _minutes_text(value: Decimal) -> str:
    return f"{format_number(value)} min"


# --------------------------------------------------------------------------------------
# Vital-sign policy
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """``field op value``, e.g. ``systolic_mmhg >= 180``."""

    field: str
    op: str
    value: Decimal

    def holds(self, reading: VitalReading) -> bool:
        """Whether ``reading`` meets the condition; ``False`` when it did not measure it."""
        measured = reading.value(self.field)
        return measured is not None and _OPERATORS[self.op](measured, self.value)

    def describe(self, reading: VitalReading) -> str:
        """The finding in words, e.g. ``systolic_mmhg 185 >= 180``."""
        measured = reading.value(self.field)
        shown = "not measured" if measured is None else format_number(measured)
        return f"{self.field} {shown} {self.op} {format_number(self.value)}"


@dataclass(frozen=True)
class Sustained:
    """Rule ``of`` met on every reading over at least ``for_minutes``.

    Precisely: the newest reading that measures the base rule's fields meets it, and so does
    every such reading back to one taken at least ``for_minutes`` earlier, with no reading
    in between that falls short. Readings that measure none of those fields are skipped.
    """

    of: str
    for_minutes: Decimal


@dataclass(frozen=True)
class VitalSignRule:
    """One line of the policy: a threshold rule (``when_any``) or a ``sustained`` rule."""

    code: str
    level: str
    action: str
    basis: str
    when_any: tuple[Condition, ...] = ()
    sustained: Sustained | None = None
    replaces: tuple[str, ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        """The measurements a threshold rule looks at."""
        return tuple(dict.fromkeys(condition.field for condition in self.when_any))

    def measured_by(self, reading: VitalReading) -> bool:
        """Whether ``reading`` measured anything this threshold rule looks at."""
        return reading.measures(self.fields)

    def met_by(self, reading: VitalReading) -> bool:
        """Whether ``reading`` meets any condition of this threshold rule."""
        return any(condition.holds(reading) for condition in self.when_any)

    def finding(self, reading: VitalReading) -> str:
        """The conditions ``reading`` meets, in words."""
        met = [c.describe(reading) for c in self.when_any if c.holds(reading)]
        return " or ".join(met)

    def to_mapping(self) -> dict[str, Any]:
        """The rule in the shape of ``data/vital_sign_policy.yaml``."""
        mapping: dict[str, Any] = {"code": self.code, "level": self.level}
        if self.when_any:
            mapping["when_any"] = [
                {"field": c.field, "op": c.op, "value": c.value} for c in self.when_any
            ]
        if self.sustained:
            mapping["sustained"] = {
                "of": self.sustained.of,
                "for_minutes": self.sustained.for_minutes,
            }
        if self.replaces:
            mapping["replaces"] = list(self.replaces)
        mapping.update(action=self.action, basis=self.basis)
        return mapping


def _condition_from(item: Any, where: str) -> Condition:
    field = _require(item, "field", where)
    op = _require(item, "op", where)
    if field not in MEASUREMENT_FIELDS:
        raise PolicyError(f"{where}: unknown field {field!r}")
    if op not in _OPERATORS:
        raise PolicyError(f"{where}: operator {op!r} is not one of {', '.join(_OPERATORS)}")
    return Condition(field, op, _decimal(_require(item, "value", where), f"{where}.value"))


def _rule_from(item: Any, index: int) -> VitalSignRule:
    code = _require(item, "code", f"rules[{index}]")
    where = f"rule {code}"
    level = _require(item, "level", where)
    if level not in LEVELS:
        raise PolicyError(f"{where}: level {level!r} is not one of {', '.join(LEVELS)}")
    conditions = tuple(
        _condition_from(c, f"{where}.when_any[{i}]") for i, c in enumerate(item.get("when_any", ()))
    )
    sustained = None
    if (spec := item.get("sustained")) is not None:
        minutes = _decimal(_require(spec, "for_minutes", where), f"{where}.for_minutes")
        if minutes <= 0:
            raise PolicyError(f"{where}: sustained for_minutes must be above 0")
        sustained = Sustained(str(_require(spec, "of", where)), minutes)
    if bool(conditions) == bool(sustained):
        raise PolicyError(f"{where}: give exactly one of when_any or sustained")
    return VitalSignRule(
        code=str(code),
        level=level,
        action=str(_require(item, "action", where)),
        basis=str(_require(item, "basis", where)),
        when_any=conditions,
        sustained=sustained,
        replaces=tuple(str(c) for c in item.get("replaces", ())),
    )


@dataclass(frozen=True)
class VitalSignPolicy:
    """The clinic's vital-sign policy: rules in display order, with name and basis."""

    name: str
    version: int
    status: str
    source: str
    rules: tuple[VitalSignRule, ...]

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> VitalSignPolicy:
        """Build and check a policy from a mapping (the YAML file or the clinic's database).

        Raises :class:`PolicyError` naming the rule and key for an unknown field, operator or
        level, a duplicate code, or a ``sustained``/``replaces`` reference to a missing rule.
        """
        items = _require(mapping, "rules", "policy")
        rules = tuple(_rule_from(item, i) for i, item in enumerate(items))
        policy = cls(
            name=str(mapping.get("name", "vital_sign_policy")),
            version=int(mapping.get("version", 1)),
            status=str(_require(mapping, "status", "policy")),
            source=str(_require(mapping, "source", "policy")),
            rules=rules,
        )
        policy._check_references()
        return policy

    def _check_references(self) -> None:
        codes = [rule.code for rule in self.rules]
        if len(set(codes)) != len(codes):
            raise PolicyError("policy: rule codes must be unique")
        for rule in self.rules:
            if rule.sustained and not self.rule(rule.sustained.of).when_any:
                raise PolicyError(f"rule {rule.code}: sustained must name a threshold rule")
            for code in rule.replaces:
                self.rule(code)

    def rule(self, code: str) -> VitalSignRule:
        """The rule with ``code``; :class:`PolicyError` if the policy has none."""
        for rule in self.rules:
            if rule.code == code:
                return rule
        raise PolicyError(f"policy has no rule {code!r}")

    def to_mapping(self) -> dict[str, Any]:
        """The policy in the shape :meth:`from_mapping` reads (to seed the database)."""
        return {
            "name": self.name,
            "version": self.version,
            "status": self.status,
            "source": self.source,
            "rules": [rule.to_mapping() for rule in self.rules],
        }


def load_policy(name: str = "vital_sign_policy.yaml") -> VitalSignPolicy:
    """Load a vital-sign policy shipped in ``charting/data``."""
    return VitalSignPolicy.from_mapping(_load_yaml(name))


DEFAULT_POLICY = load_policy()


@dataclass(frozen=True)
class Alert:
    """A rule the readings meet: what it is, how serious, what to consider, and why.

    ``minute`` is the minute of the reading that raised it; ``finding`` says which values
    met which threshold.
    """

    code: str
    level: str
    action: str
    basis: str
    minute: Decimal
    finding: str

    def to_mapping(self) -> dict[str, Any]:
        """JSON-ready form: minute as an int when whole, else a float."""
        minute = (
            int(self.minute) if self.minute == self.minute.to_integral() else float(self.minute)
        )
        return {
            "code": self.code,
            "level": self.level,
            "action": self.action,
            "basis": self.basis,
            "minute": minute,
            "finding": self.finding,
        }


def _newest_measuring(rule: VitalSignRule, readings: Sequence[VitalReading]) -> int | None:
    for index in range(len(readings) - 1, -1, -1):
        if rule.measured_by(readings[index]):
            return index
    return None


def _threshold_hit(rule: VitalSignRule, readings: Sequence[VitalReading]) -> tuple[int, str] | None:
    # The newest reading that measured this rule's fields speaks for the patient now: an
    # SpO2-only reading after a high blood pressure must not silence the BP alert.
    index = _newest_measuring(rule, readings)
    if index is None or not rule.met_by(readings[index]):
        return None
    return index, rule.finding(readings[index])


def _sustained_hit(
    sustained: Sustained, base: VitalSignRule, readings: Sequence[VitalReading]
) -> tuple[int, str] | None:
    relevant = [i for i, reading in enumerate(readings) if base.measured_by(reading)]
    if not relevant or not base.met_by(readings[relevant[-1]]):
        return None
    newest = readings[relevant[-1]]
    for index in reversed(relevant):
        reading = readings[index]
        if not base.met_by(reading):
            return None
        span = newest.minute - reading.minute
        if span >= sustained.for_minutes:
            finding = (
                f"{base.code} on every reading from minute {format_number(reading.minute)} "
                f"to minute {format_number(newest.minute)} ({_minutes_text(span)})"
            )
            return relevant[-1], finding
    return None


def _alerts_with_source(
    readings: Sequence[VitalReading], policy: VitalSignPolicy
) -> list[tuple[int, Alert]]:
    fired: list[tuple[int, VitalSignRule, str]] = []
    for rule in policy.rules:
        if rule.sustained:
            hit = _sustained_hit(rule.sustained, policy.rule(rule.sustained.of), readings)
        else:
            hit = _threshold_hit(rule, readings)
        if hit is not None:
            fired.append((hit[0], rule, hit[1]))
    replaced = {code for _, rule, _ in fired for code in rule.replaces}
    kept = [(index, rule, finding) for index, rule, finding in fired if rule.code not in replaced]
    # Critical first; within a level, the policy's own order (stable sort).
    kept.sort(key=lambda hit: LEVELS.index(hit[1].level), reverse=True)
    return [
        (index, Alert(rule.code, rule.level, rule.action, rule.basis, readings[index].minute, f))
        for index, rule, f in kept
    ]


def evaluate(
    readings: Sequence[VitalReading],
    policy: VitalSignPolicy = DEFAULT_POLICY,
    limits: PlausibilityLimits = DEFAULT_LIMITS,
) -> list[Alert]:
    """The alerts in force after the newest reading, critical first.

    Parameters
    ----------
    readings
        The session's readings, oldest first. Each is validated against ``limits``;
        an implausible one raises :class:`~ketaclinic.charting.vitals.ImplausibleReading`.
    policy
        The clinic's vital-sign policy (default: ``data/vital_sign_policy.yaml``).

    Returns
    -------
    list of Alert
        Each threshold rule is judged on the newest reading that measured its fields; each
        sustained rule on the run of readings ending there (see :class:`Sustained`). Codes
        named in a fired rule's ``replaces`` are left out, so a family reports its most
        severe finding plus, separately, whether it is sustained.
    """
    validate_series(readings, limits)
    return [alert for _, alert in _alerts_with_source(readings, policy)]


def evaluate_series(
    readings: Sequence[VitalReading],
    policy: VitalSignPolicy = DEFAULT_POLICY,
    limits: PlausibilityLimits = DEFAULT_LIMITS,
) -> list[Alert]:
    """Every alert raised over the session, each at the reading that raised it.

    Replays the chart reading by reading: after each reading, the alerts that this reading
    raised (not the ones carried from an older reading) are kept. The result is the
    session's alert timeline, oldest first.
    """
    validate_series(readings, limits)
    timeline: list[Alert] = []
    for newest in range(len(readings)):
        for index, alert in _alerts_with_source(readings[: newest + 1], policy):
            if index == newest:
                timeline.append(alert)
    return timeline


def evaluate_vitals_request(
    body: Any,
    policy: VitalSignPolicy = DEFAULT_POLICY,
    limits: PlausibilityLimits = DEFAULT_LIMITS,
) -> dict[str, list[dict[str, Any]]]:
    """Answer ``POST /api/v1/safety/evaluate-vitals``.

    ``body`` is ``{"readings": [{"minute": 0, "systolic_mmhg": 185, ...}, ...]}``, oldest
    first. Returns ``{"alerts": [...]}`` (the alerts in force after the newest reading, as
    :func:`evaluate`) and ``{"timeline": [...]}`` (every alert at the reading that raised
    it, as :func:`evaluate_series`). An implausible or malformed reading raises
    :class:`~ketaclinic.charting.vitals.ImplausibleReading` with its location (answer 422).
    """
    if not isinstance(body, Mapping) or "readings" not in body:
        raise ImplausibleReading("readings", "the body needs a list of readings, oldest first")
    readings = parse_readings(body["readings"], limits)
    return {
        "alerts": [a.to_mapping() for a in evaluate(readings, policy, limits)],
        "timeline": [a.to_mapping() for a in evaluate_series(readings, policy, limits)],
    }


# --------------------------------------------------------------------------------------
# Monitoring schedule
# --------------------------------------------------------------------------------------

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
        tolerance = _decimal(_require(mapping, "tolerance_minutes", "schedules"), "tolerance")
        if tolerance < 0:
            raise PolicyError("schedules: tolerance_minutes must not be negative")
        schedules = {
            route: MonitoringSchedule(
                route=route,
                label=str(_require(spec, "label", route)),
                checks=tuple(
                    _check_from(item, tolerance, f"{route}.checks[{i}]")
                    for i, item in enumerate(_require(spec, "checks", route))
                ),
            )
            for route, spec in _require(mapping, "schedules", "schedules").items()
        }
        return cls(
            schedules=MappingProxyType(schedules),
            tolerance_minutes=tolerance,
            tolerance_basis=str(_require(mapping, "tolerance_basis", "schedules")),
            source=str(_require(mapping, "source", "schedules")),
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
    return None if value is None else _decimal(value, f"{where}.{key}")


def _check_from(item: Mapping[str, Any], tolerance: Decimal, where: str) -> MonitoringCheck:
    anchor = _require(item, "anchor", where)
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
    requires = tuple(_require(item, "requires", where))
    if not requires or any(name not in MEASUREMENT_FIELDS for name in requires):
        raise PolicyError(f"{where}: requires must list vital-sign fields")
    before = item.get("window_before_minutes", tolerance)
    after = item.get("window_after_minutes", tolerance)
    return MonitoringCheck(
        code=str(_require(item, "code", where)),
        label=str(_require(item, "label", where)),
        anchor=anchor,
        requires=requires,
        source=str(_require(item, "source", where)),
        offset_minutes=_decimal(item.get("offset_minutes", 0), f"{where}.offset_minutes"),
        every_minutes=every,
        until=until,
        for_minutes=for_minutes,
        window_before_minutes=None if before is None else _decimal(before, where),
        window_after_minutes=_decimal(after, where),
    )


def load_monitoring(name: str = "monitoring_schedules.yaml") -> MonitoringPolicy:
    """Load the monitoring schedules shipped in ``charting/data``."""
    return MonitoringPolicy.from_mapping(_load_yaml(name))


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


# --------------------------------------------------------------------------------------
# Discharge
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DischargeCriterion:
    """A checklist item a clinician confirms before discharge."""

    code: str
    label: str
    source: str
    routes: tuple[str, ...] | None = None

    def applies_to(self, route: str) -> bool:
        """Whether this criterion is asked for ``route``."""
        return self.routes is None or route in self.routes


@dataclass(frozen=True)
class ObservationRule:
    """Minimum observation for a route, counted from an anchor."""

    route: str
    minutes: Decimal
    anchor: str
    source: str


@dataclass(frozen=True)
class DrivingAdvice:
    """What the written driving instructions say, with source."""

    text: str
    source: str


@dataclass(frozen=True)
class DischargePolicy:
    """Discharge checklist, minimum observation per route and driving advice."""

    criteria: tuple[DischargeCriterion, ...]
    observation: Mapping[str, ObservationRule]
    driving_advice: Mapping[str, DrivingAdvice]
    source: str

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> DischargePolicy:
        """Build the policy from the shape of ``data/discharge.yaml``."""
        criteria = tuple(
            DischargeCriterion(
                code=str(_require(item, "code", "criterion")),
                label=str(_require(item, "label", "criterion")),
                source=str(_require(item, "source", "criterion")),
                routes=tuple(item["routes"]) if item.get("routes") else None,
            )
            for item in _require(mapping, "criteria", "discharge")
        )
        observation = {}
        for route, item in _require(mapping, "minimum_observation", "discharge").items():
            anchor = _require(item, "from", route)
            if anchor not in ("dose_start", "dose_end"):
                raise PolicyError(f"{route}: observation counts from dose_start or dose_end")
            minutes = _decimal(_require(item, "minutes", route), f"{route}.minutes")
            observation[route] = ObservationRule(route, minutes, anchor, str(item["source"]))
        advice = {
            key: DrivingAdvice(str(item["text"]), str(item["source"]))
            for key, item in _require(mapping, "driving_advice", "discharge").items()
        }
        if "default" not in advice:
            raise PolicyError("discharge: driving_advice needs a default")
        return cls(
            criteria,
            MappingProxyType(observation),
            MappingProxyType(advice),
            str(mapping["source"]),
        )

    def criteria_for(self, route: str) -> tuple[DischargeCriterion, ...]:
        """The checklist asked for ``route``."""
        return tuple(c for c in self.criteria if c.applies_to(route))

    def driving_advice_for(self, route: str) -> DrivingAdvice:
        """The driving advice for ``route`` (the default when the route has none)."""
        return self.driving_advice.get(route, self.driving_advice["default"])


def load_discharge(name: str = "discharge.yaml") -> DischargePolicy:
    """Load the discharge policy shipped in ``charting/data``."""
    return DischargePolicy.from_mapping(_load_yaml(name))


DEFAULT_DISCHARGE = load_discharge()


@dataclass(frozen=True)
class Blocker:
    """Something that stands between the patient and discharge, with its source."""

    code: str
    message: str
    source: str


@dataclass(frozen=True)
class DischargeAssessment:
    """What still blocks discharge and when minimum observation ends.

    ``observation_met`` is ``None`` when the route has no minimum in the reference (the
    clinician judges); ``earliest_discharge_minute`` is ``None`` when it cannot be known yet.
    """

    blockers: tuple[Blocker, ...]
    observation_met: bool | None
    earliest_discharge_minute: Decimal | None
    driving_advice: DrivingAdvice

    @property
    def can_discharge(self) -> bool:
        """No blocker remains (a clinician still signs the discharge)."""
        return not self.blockers


def _observation_blocker(
    rule: ObservationRule, anchor: Decimal | None, now: Decimal
) -> tuple[Blocker | None, Decimal | None]:
    if anchor is None:
        what = "the infusion ends" if rule.anchor == "dose_end" else "dosing starts"
        message = f"observation of {_minutes_text(rule.minutes)} starts when {what}"
        return Blocker("minimum_observation", message, rule.source), None
    earliest = anchor + rule.minutes
    if now >= earliest:
        return None, earliest
    message = (
        f"{rule.route} needs {_minutes_text(rule.minutes)} of observation from minute "
        f"{format_number(anchor)}; {_minutes_text(now - anchor)} so far, "
        f"earliest discharge at minute {format_number(earliest)}"
    )
    return Blocker("minimum_observation", message, rule.source), earliest


def discharge_blockers(
    route: str,
    *,
    checklist: Mapping[str, bool],
    now_minute: Decimal | int,
    dose_start_minute: Decimal | int | None,
    dose_end_minute: Decimal | int | None = None,
    alerts: Sequence[Alert] = (),
    policy: DischargePolicy = DEFAULT_DISCHARGE,
) -> DischargeAssessment:
    """List what still blocks discharge: unmet criteria, observation time, critical alerts.

    Parameters
    ----------
    route
        ``iv``, ``esketamine``, ``im``, ``sublingual`` or ``oral``.
    checklist
        Criterion code to whether a clinician confirmed it; a missing code is unmet.
    now_minute, dose_start_minute, dose_end_minute
        Minutes from the session start (dose start/end: infusion or first/last device).
    alerts
        The alerts in force (:func:`evaluate`); a critical one blocks discharge because the
        vital signs are then not back to baseline.
    """
    now = as_decimal(now_minute, "now_minute")
    blockers = [
        Blocker(c.code, f"not confirmed: {c.label}", c.source)
        for c in policy.criteria_for(route)
        if checklist.get(c.code) is not True
    ]
    blockers.extend(
        Blocker(
            "critical_alert",
            f"critical alert {a.code} at minute {format_number(a.minute)}",
            a.basis,
        )
        for a in alerts
        if a.level == "critical"
    )
    observation_met, earliest = None, None
    if (rule := policy.observation.get(route)) is not None:
        raw = dose_start_minute if rule.anchor == "dose_start" else dose_end_minute
        anchor = None if raw is None else as_decimal(raw, rule.anchor)
        blocker, earliest = _observation_blocker(rule, anchor, now)
        observation_met = blocker is None
        if blocker is not None:
            blockers.append(blocker)
    return DischargeAssessment(
        tuple(blockers), observation_met, earliest, policy.driving_advice_for(route)
    )


# --------------------------------------------------------------------------------------
# Side-effect vocabulary
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SideEffect:
    """A side effect the chart can record, with the seeds that list it."""

    code: str
    label: str
    category: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class SideEffectVocabulary:
    """Side effects by code, their categories and the severity scale."""

    effects: tuple[SideEffect, ...]
    categories: Mapping[str, str]
    severities: tuple[str, ...]
    source: str

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> SideEffectVocabulary:
        """Build the vocabulary from the shape of ``data/side_effects.yaml``."""
        categories = dict(_require(mapping, "categories", "side effects"))
        effects = []
        for item in _require(mapping, "effects", "side effects"):
            code = str(_require(item, "code", "effect"))
            if item.get("category") not in categories:
                raise PolicyError(f"side effect {code}: unknown category {item.get('category')!r}")
            sources = tuple(_require(item, "sources", code))
            if not sources:
                raise PolicyError(f"side effect {code}: name at least one source")
            effects.append(SideEffect(code, str(item["label"]), item["category"], sources))
        if len({e.code for e in effects}) != len(effects):
            raise PolicyError("side effects: codes must be unique")
        severities = tuple(str(s["code"]) for s in _require(mapping, "severities", "side effects"))
        return cls(tuple(effects), MappingProxyType(categories), severities, str(mapping["source"]))

    def get(self, code: str) -> SideEffect:
        """The side effect with ``code``; :class:`PolicyError` when unknown."""
        for effect in self.effects:
            if effect.code == code:
                return effect
        raise PolicyError(f"{code!r} is not a side effect in the vocabulary")

    def in_category(self, category: str) -> tuple[SideEffect, ...]:
        """Side effects of one category (``common``, ``rare``, ``risk``, ``long_term``)."""
        return tuple(e for e in self.effects if e.category == category)

    def check(self, code: str, severity: str) -> SideEffect:
        """Validate a recorded side effect and severity; :class:`PolicyError` names the bad one."""
        effect = self.get(code)
        if severity not in self.severities:
            raise PolicyError(f"severity {severity!r} is not one of {', '.join(self.severities)}")
        return effect


def load_side_effects(name: str = "side_effects.yaml") -> SideEffectVocabulary:
    """Load the side-effect vocabulary shipped in ``charting/data``."""
    return SideEffectVocabulary.from_mapping(_load_yaml(name))


SIDE_EFFECTS = load_side_effects()
