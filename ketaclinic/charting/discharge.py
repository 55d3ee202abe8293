"""Discharge after a session: the checklist, the minimum observation, the driving advice.

The policy is data, ``data/discharge.yaml``, each criterion naming its source. A named
clinician signs every discharge: :func:`discharge_blockers` lists what still stands between
the patient and discharge (unconfirmed criteria, observation time, critical alerts) in the
words a clinician reads; it does not decide.

Pure module: no Django import. Times are minutes from the session start.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from types import MappingProxyType
from typing import Any

from ketaclinic.charting.alerts import Alert
from ketaclinic.charting.data_files import (
    PolicyError,
    decimal,
    load_yaml,
    minutes_text,
    require,
)
from ketaclinic.charting.vitals import as_decimal

ANCHORS = ("dose_start", "dose_end")


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
    """Minimum observation for a route, counted from an anchor.

    ``anchor_label`` says the anchor in words for the route: "the first device", "the end of
    the infusion".
    """

    route: str
    minutes: Decimal
    anchor: str
    source: str
    anchor_label: str = ""


@dataclass(frozen=True)
class DrivingAdvice:
    """What the written driving instructions say, with source."""

    text: str
    source: str


def _criterion_from(item: Mapping[str, Any]) -> DischargeCriterion:
    return DischargeCriterion(
        code=str(require(item, "code", "criterion")),
        label=str(require(item, "label", "criterion")),
        source=str(require(item, "source", "criterion")),
        routes=tuple(item["routes"]) if item.get("routes") else None,
    )


def _observation_from(route: str, item: Mapping[str, Any]) -> ObservationRule:
    anchor = require(item, "from", route)
    if anchor not in ANCHORS:
        raise PolicyError(f"{route}: observation counts from dose_start or dose_end")
    return ObservationRule(
        route,
        decimal(require(item, "minutes", route), f"{route}.minutes"),
        anchor,
        str(require(item, "source", route)),
        str(require(item, "from_label", route)),
    )


def _advice_from(items: Mapping[str, Any]) -> dict[str, DrivingAdvice]:
    advice = {
        key: DrivingAdvice(str(item["text"]), str(item["source"])) for key, item in items.items()
    }
    if "default" not in advice:
        raise PolicyError("discharge: driving_advice needs a default")
    return advice


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
        criteria = tuple(_criterion_from(i) for i in require(mapping, "criteria", "discharge"))
        observation = {
            route: _observation_from(route, item)
            for route, item in require(mapping, "minimum_observation", "discharge").items()
        }
        advice = _advice_from(require(mapping, "driving_advice", "discharge"))
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
    return DischargePolicy.from_mapping(load_yaml(name))


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


def whole_minutes(value: Decimal, rounding: str) -> Decimal:
    """Minutes as a nurse reads a clock: elapsed rounded down, still to wait rounded up."""
    return value.to_integral_value(rounding=rounding)


def _observation_blocker(
    rule: ObservationRule, anchor: Decimal | None, now: Decimal
) -> tuple[Blocker | None, Decimal | None]:
    if anchor is None:
        message = (
            f"Observation of {minutes_text(rule.minutes)} counts from {rule.anchor_label}, "
            "not charted yet"
        )
        return Blocker("minimum_observation", message, rule.source), None
    earliest = anchor + rule.minutes
    if now >= earliest:
        return None, earliest
    message = (
        f"Observation of {minutes_text(rule.minutes)} from {rule.anchor_label}: "
        f"{minutes_text(whole_minutes(now - anchor, ROUND_FLOOR))} so far, "
        f"{minutes_text(whole_minutes(earliest - now, ROUND_CEILING))} to go"
    )
    return Blocker("minimum_observation", message, rule.source), earliest


def _criteria_blockers(
    route: str, checklist: Mapping[str, bool], policy: DischargePolicy
) -> list[Blocker]:
    return [
        Blocker(c.code, f"not confirmed: {c.label}", c.source)
        for c in policy.criteria_for(route)
        if checklist.get(c.code) is not True
    ]


def _alert_blockers(alerts: Sequence[Alert]) -> list[Blocker]:
    # A critical alert in force means the vital signs are not back to baseline.
    return [
        Blocker("critical_alert", f"Critical alert in force: {a.message}", a.basis)
        for a in alerts
        if a.level == "critical"
    ]


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
        The alerts in force (:func:`~ketaclinic.charting.alerts.evaluate`); a critical one
        blocks discharge because the vital signs are then not back to baseline.
    """
    now = as_decimal(now_minute, "now_minute")
    blockers = _criteria_blockers(route, checklist, policy) + _alert_blockers(alerts)
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
