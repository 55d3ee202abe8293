"""Vital-sign alerts: which rules of the clinic's policy a session's readings meet, in words.

An :class:`Alert` keeps the rule's code for the API and says in the clinic's words what was
found: "Blood pressure high: 186/112 mmHg (limit 180/110)" is the rule's label, the values
it looks at with their units (``data/plausibility_limits.yaml``) and its limits. Its advice
is the rule's for the phase of the session the reading was taken in.

Pure module: no Django import. Readings are :class:`~ketaclinic.charting.vitals.VitalReading`
series, oldest first, timed in minutes from the session start.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ketaclinic.charting.alert_rules import (
    DEFAULT_PHASE,
    DEFAULT_POLICY,
    LEVELS,
    Sustained,
    VitalSignPolicy,
    VitalSignRule,
)
from ketaclinic.charting.data_files import minutes_text
from ketaclinic.charting.vitals import (
    DEFAULT_LIMITS,
    ImplausibleReading,
    PlausibilityLimits,
    VitalReading,
    format_number,
    parse_readings,
    validate_series,
)


@dataclass(frozen=True)
class Alert:
    """A rule the readings meet: what it is, how serious, what to consider, and why.

    ``minute`` is the minute of the reading that raised it; ``finding`` says in words which
    values met which limits; ``message`` is what a page shows.
    """

    code: str
    level: str
    action: str
    basis: str
    minute: Decimal
    finding: str
    label: str = ""

    @property
    def message(self) -> str:
        """``Blood pressure high: 186/112 mmHg (limit 180/110)``."""
        return f"{self.label}: {self.finding}" if self.label else self.finding

    def to_mapping(self) -> dict[str, Any]:
        """JSON-ready form: minute as an int when whole, else a float."""
        minute = (
            int(self.minute) if self.minute == self.minute.to_integral() else float(self.minute)
        )
        return {
            "code": self.code,
            "label": self.label,
            "level": self.level,
            "action": self.action,
            "basis": self.basis,
            "minute": minute,
            "finding": self.finding,
            "message": self.message,
        }


# ---------------------------------------------------------------- the finding in words


def _with_unit(values: str, unit: str) -> str:
    # "98%" and "6/min" read as written on a chart; "186/112 mmHg" and "37.5 °C" with a space.
    return f"{values}{unit}" if unit.startswith(("%", "/")) else f"{values} {unit}"


def measured_text(
    rule: VitalSignRule, reading: VitalReading, limits: PlausibilityLimits = DEFAULT_LIMITS
) -> str:
    """The values a threshold rule looks at, e.g. ``186/112 mmHg`` or ``89%``."""
    shown = [reading.value(field) for field in rule.fields]
    texts = ["–" if value is None else format_number(value) for value in shown]
    units = [unit_of(field, limits) for field in rule.fields]
    if len(set(units)) == 1:
        return _with_unit("/".join(texts), units[0])
    return ", ".join(_with_unit(t, u) for t, u in zip(texts, units, strict=True))


def limit_text(rule: VitalSignRule) -> str:
    """The rule's limits in the order of its fields, e.g. ``limit 180/110``."""
    per_field = [
        " or ".join(format_number(c.value) for c in rule.when_any if c.field == field)
        for field in rule.fields
    ]
    return "limit " + "/".join(per_field)


def unit_of(field: str, limits: PlausibilityLimits = DEFAULT_LIMITS) -> str:
    """The unit a measurement is charted in (from the plausibility limits' data)."""
    limit = limits.for_field(field) or DEFAULT_LIMITS.for_field(field)
    return limit.unit if limit is not None else ""


def threshold_finding(
    rule: VitalSignRule, reading: VitalReading, limits: PlausibilityLimits = DEFAULT_LIMITS
) -> str:
    """``186/112 mmHg (limit 180/110)``."""
    return f"{measured_text(rule, reading, limits)} ({limit_text(rule)})"


def sustained_finding(
    base: VitalSignRule,
    newest: VitalReading,
    span: Decimal,
    limits: PlausibilityLimits = DEFAULT_LIMITS,
) -> str:
    """``186/112 mmHg, beyond the limit on every reading for 10 min (limit 180/110)``."""
    return (
        f"{measured_text(base, newest, limits)}, beyond the limit on every reading for "
        f"{minutes_text(span)} ({limit_text(base)})"
    )


# ---------------------------------------------------------------- evaluation


def _newest_measuring(rule: VitalSignRule, readings: Sequence[VitalReading]) -> int | None:
    for index in range(len(readings) - 1, -1, -1):
        if rule.measured_by(readings[index]):
            return index
    return None


def _threshold_hit(
    rule: VitalSignRule, readings: Sequence[VitalReading], limits: PlausibilityLimits
) -> tuple[int, str] | None:
    # The newest reading that measured this rule's fields speaks for the patient now: an
    # SpO2-only reading after a high blood pressure must not silence the BP alert.
    index = _newest_measuring(rule, readings)
    if index is None or not rule.met_by(readings[index]):
        return None
    return index, threshold_finding(rule, readings[index], limits)


def _sustained_hit(
    sustained: Sustained,
    base: VitalSignRule,
    readings: Sequence[VitalReading],
    limits: PlausibilityLimits,
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
            return relevant[-1], sustained_finding(base, newest, span, limits)
    return None


def _hits(
    readings: Sequence[VitalReading], policy: VitalSignPolicy, limits: PlausibilityLimits
) -> list[tuple[int, VitalSignRule, str]]:
    """Every rule the readings meet, with the reading that met it and the finding."""
    fired: list[tuple[int, VitalSignRule, str]] = []
    for rule in policy.rules:
        if rule.sustained:
            base = policy.rule(rule.sustained.of)
            hit = _sustained_hit(rule.sustained, base, readings, limits)
        else:
            hit = _threshold_hit(rule, readings, limits)
        if hit is not None:
            fired.append((hit[0], rule, hit[1]))
    replaced = {code for _, rule, _ in fired for code in rule.replaces}
    kept = [hit for hit in fired if hit[1].code not in replaced]
    # Critical first; within a level, the policy's own order (stable sort).
    kept.sort(key=lambda hit: LEVELS.index(hit[1].level), reverse=True)
    return kept


def _alerts_with_source(
    readings: Sequence[VitalReading],
    policy: VitalSignPolicy,
    limits: PlausibilityLimits,
    phase: str,
) -> list[tuple[int, Alert]]:
    return [
        (
            index,
            Alert(
                rule.code,
                rule.level,
                rule.action_in(phase),
                rule.basis,
                readings[index].minute,
                finding,
                rule.label,
            ),
        )
        for index, rule, finding in _hits(readings, policy, limits)
    ]


def evaluate(
    readings: Sequence[VitalReading],
    policy: VitalSignPolicy = DEFAULT_POLICY,
    limits: PlausibilityLimits = DEFAULT_LIMITS,
    *,
    phase: str = DEFAULT_PHASE,
) -> list[Alert]:
    """The alerts in force after the newest reading, critical first.

    Parameters
    ----------
    readings
        The session's readings, oldest first. Each is validated against ``limits``;
        an implausible one raises :class:`~ketaclinic.charting.vitals.ImplausibleReading`.
    policy
        The clinic's vital-sign policy (default: ``data/vital_sign_policy.yaml``).
    phase
        The phase of the session at the newest reading (``alert_rules.PHASES``): each
        alert carries its rule's advice for that phase.

    Returns
    -------
    list of Alert
        Each threshold rule is judged on the newest reading that measured its fields; each
        sustained rule on the run of readings ending there (see :class:`Sustained`). Codes
        named in a fired rule's ``replaces`` are left out, so a family reports its most
        severe finding plus, separately, whether it is sustained.
    """
    validate_series(readings, limits)
    return [alert for _, alert in _alerts_with_source(readings, policy, limits, phase)]


def evaluate_series(
    readings: Sequence[VitalReading],
    policy: VitalSignPolicy = DEFAULT_POLICY,
    limits: PlausibilityLimits = DEFAULT_LIMITS,
    *,
    phase: str = DEFAULT_PHASE,
) -> list[Alert]:
    """Every alert raised over the session, each at the reading that raised it.

    Replays the chart reading by reading: after each reading, the alerts that this reading
    raised (not the ones carried from an older reading) are kept. The result is the
    session's alert timeline, oldest first.
    """
    validate_series(readings, limits)
    timeline: list[Alert] = []
    for newest in range(len(readings)):
        for index, alert in _alerts_with_source(readings[: newest + 1], policy, limits, phase):
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
