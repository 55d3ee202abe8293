"""The clinic's vital-sign policy: which readings raise which alert, and what to do about it.

The rules are data, ``data/vital_sign_policy.yaml``: a *default clinic policy*, not a
guideline (no authoritative stop/hold values exist), which a clinic edits (the database copy
is built with :meth:`VitalSignPolicy.from_mapping`). Each rule has a code (for the API and
the data), a label (for people), a level, the basis that says where its numbers come from,
and its advice for each phase of the session: a critical blood pressure while dosing means
"stop the infusion"; the same reading in observation, when nothing is running, does not.

Pure module: no Django import.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from ketaclinic.charting.data_files import PolicyError, decimal, load_yaml, require
from ketaclinic.charting.vitals import MEASUREMENT_FIELDS, VitalReading

LEVELS = ("warning", "critical")

#: The phases of a session a reading can fall in, in order. A rule's advice is given per
#: phase: before dosing starts, while dosing, and in observation after dosing ended.
PHASES = ("before_dosing", "dosing", "observation")

#: The phase a caller that does not know it gets (the advice while dosing).
DEFAULT_PHASE = "dosing"

#: How each phase reads on a page.
PHASE_LABELS = MappingProxyType(
    {"before_dosing": "Before dosing", "dosing": "While dosing", "observation": "In observation"}
)

OPERATORS: Mapping[str, Callable[[Decimal, Decimal], bool]] = MappingProxyType(
    {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
)


def phase_at(
    minute: Decimal, dose_start_minute: Decimal | None, dose_end_minute: Decimal | None
) -> str:
    """The phase of the session at ``minute``, from when dosing started and ended."""
    if dose_start_minute is None or minute < dose_start_minute:
        return "before_dosing"
    if dose_end_minute is not None and minute >= dose_end_minute:
        return "observation"
    return "dosing"


@dataclass(frozen=True)
class Condition:
    """``field op value``, e.g. ``systolic_mmhg >= 180``."""

    field: str
    op: str
    value: Decimal

    def holds_for(self, measured: Decimal | None) -> bool:
        """Whether a measured value meets the condition; ``False`` when not measured."""
        return measured is not None and OPERATORS[self.op](measured, self.value)

    def holds(self, reading: VitalReading) -> bool:
        """Whether ``reading`` meets the condition; ``False`` when it did not measure it."""
        return self.holds_for(reading.value(self.field))


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
    """One line of the policy: a threshold rule (``when_any``) or a ``sustained`` rule.

    ``actions`` holds the advice for each phase, in the order of :data:`PHASES`.
    """

    code: str
    level: str
    actions: tuple[str, ...]
    basis: str
    label: str
    when_any: tuple[Condition, ...] = ()
    sustained: Sustained | None = None
    replaces: tuple[str, ...] = ()

    @property
    def action(self) -> str:
        """The advice while dosing (the phase the reference's table speaks of)."""
        return self.action_in(DEFAULT_PHASE)

    def action_in(self, phase: str) -> str:
        """The advice for a reading taken in ``phase`` (one of :data:`PHASES`)."""
        if phase not in PHASES:
            raise PolicyError(f"phase {phase!r} is not one of {', '.join(PHASES)}")
        return self.actions[PHASES.index(phase)]

    @property
    def advice(self) -> list[tuple[str, str]]:
        """(phase label, action) for each phase; one ("", action) when every phase agrees."""
        if len(set(self.actions)) == 1:
            return [("", self.actions[0])]
        return [(PHASE_LABELS[p], a) for p, a in zip(PHASES, self.actions, strict=True)]

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

    def to_mapping(self) -> dict[str, Any]:
        """The rule in the shape of ``data/vital_sign_policy.yaml``."""
        mapping: dict[str, Any] = {"code": self.code, "label": self.label, "level": self.level}
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
        same = len(set(self.actions)) == 1
        mapping["action"] = (
            self.actions[0] if same else dict(zip(PHASES, self.actions, strict=True))
        )
        mapping["basis"] = self.basis
        return mapping


def _condition_from(item: Any, where: str) -> Condition:
    field = require(item, "field", where)
    op = require(item, "op", where)
    if field not in MEASUREMENT_FIELDS:
        raise PolicyError(f"{where}: unknown field {field!r}")
    if op not in OPERATORS:
        raise PolicyError(f"{where}: operator {op!r} is not one of {', '.join(OPERATORS)}")
    return Condition(field, op, decimal(require(item, "value", where), f"{where}.value"))


def _actions_from(spec: Any, where: str) -> tuple[str, ...]:
    """One text for every phase, or a mapping that gives each phase its own."""
    if isinstance(spec, str):
        return (spec,) * len(PHASES)
    if not isinstance(spec, Mapping) or set(spec) != set(PHASES):
        raise PolicyError(f"{where}: action is a text or a mapping of {', '.join(PHASES)}")
    return tuple(str(spec[phase]) for phase in PHASES)


def _sustained_from(spec: Any, where: str) -> Sustained | None:
    if spec is None:
        return None
    minutes = decimal(require(spec, "for_minutes", where), f"{where}.for_minutes")
    if minutes <= 0:
        raise PolicyError(f"{where}: sustained for_minutes must be above 0")
    return Sustained(str(require(spec, "of", where)), minutes)


def _rule_from(item: Any, index: int) -> VitalSignRule:
    code = require(item, "code", f"rules[{index}]")
    where = f"rule {code}"
    level = require(item, "level", where)
    if level not in LEVELS:
        raise PolicyError(f"{where}: level {level!r} is not one of {', '.join(LEVELS)}")
    conditions = tuple(
        _condition_from(c, f"{where}.when_any[{i}]") for i, c in enumerate(item.get("when_any", ()))
    )
    sustained = _sustained_from(item.get("sustained"), where)
    if bool(conditions) == bool(sustained):
        raise PolicyError(f"{where}: give exactly one of when_any or sustained")
    return VitalSignRule(
        code=str(code),
        level=level,
        actions=_actions_from(require(item, "action", where), where),
        basis=str(require(item, "basis", where)),
        label=str(require(item, "label", where)),
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

        Raises :class:`PolicyError` naming the rule and key for an unknown field, operator,
        level or phase, a duplicate code, or a ``sustained``/``replaces`` reference to a
        missing rule.
        """
        items = require(mapping, "rules", "policy")
        rules = tuple(_rule_from(item, i) for i, item in enumerate(items))
        policy = cls(
            name=str(mapping.get("name", "vital_sign_policy")),
            version=int(mapping.get("version", 1)),
            status=str(require(mapping, "status", "policy")),
            source=str(require(mapping, "source", "policy")),
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
    return VitalSignPolicy.from_mapping(load_yaml(name))


DEFAULT_POLICY = load_policy()


def label_of(code: str, policy: VitalSignPolicy = DEFAULT_POLICY) -> str:
    """The label people read for an alert code; an unknown code (a rule a clinic has since
    removed) reads as its words: ``bp_high`` as ``Bp high``."""
    try:
        return policy.rule(code).label
    except PolicyError:
        text = code.replace("_", " ")
        return text[:1].upper() + text[1:]
