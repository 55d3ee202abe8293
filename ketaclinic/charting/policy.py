"""The clinic's vital-sign policy: the shipped defaults, and the clinic's signed changes.

The shipped thresholds are defaults that no guideline fixes (they follow one academic
protocol), so each clinic reviews them. A prescriber changes any threshold or sustained duration with a reason; the
change is a new ``VitalSignPolicyVersion`` (never an edit), audited, and every rule it
changed says so in its basis, next to the shipped default and its source. Rule structure,
levels and actions stay as shipped.

The policy in force is read on every stored batch of vitals, so each process keeps it for
``CACHE_SECONDS``: a change applies at once in the process that made it and within that
time everywhere else.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ketaclinic.audit import trail

from . import safety, vitals
from .models import VitalSignPolicyVersion

CACHE_SECONDS = 10
# Structural bound, not a clinical one: a rule sustained for longer than a whole clinic day
# could never fire during a session.
LONGEST_SUSTAINED_MINUTES = Decimal(480)
#: How a condition's operator reads on the page.
OPERATOR_WORDS = {">=": "≥", ">": "above", "<=": "≤", "<": "below"}


@dataclass(frozen=True)
class Threshold:
    """One editable number of the policy: a condition's value or a sustained duration."""

    key: str  # "bp_high.systolic_mmhg" or "bp_high_sustained.for_minutes"
    rule: safety.VitalSignRule
    label: str  # "Systolic blood pressure ≥" or "Blood pressure high for at least"
    unit: str
    low: Decimal
    high: Decimal


def thresholds(policy: safety.VitalSignPolicy = safety.DEFAULT_POLICY) -> list[Threshold]:
    """Every editable number of ``policy``, in the policy's order."""
    found = []
    for rule in policy.rules:
        for condition in rule.when_any:
            limit = vitals.DEFAULT_LIMITS.for_field(condition.field)
            found.append(
                Threshold(
                    f"{rule.code}.{condition.field}",
                    rule,
                    f"{limit.label} {OPERATOR_WORDS[condition.op]}",
                    limit.unit,
                    limit.low,
                    limit.high,
                )
            )
        if rule.sustained:
            found.append(
                Threshold(
                    f"{rule.code}.for_minutes",
                    rule,
                    f"{policy.rule(rule.sustained.of).label} for at least",
                    "min",
                    Decimal(0),
                    LONGEST_SUSTAINED_MINUTES,
                )
            )
    return found


def values_of(policy: safety.VitalSignPolicy) -> dict[str, Decimal]:
    """The editable numbers of ``policy`` by key."""
    values = {}
    for rule in policy.rules:
        for condition in rule.when_any:
            values[f"{rule.code}.{condition.field}"] = condition.value
        if rule.sustained:
            values[f"{rule.code}.for_minutes"] = rule.sustained.for_minutes
    return values


DEFAULT_VALUES = values_of(safety.DEFAULT_POLICY)


def _shipped_words(key: str) -> str:
    """``bp_high.systolic_mmhg`` as ``systolic blood pressure``; a duration as ``duration``."""
    field = key.split(".")[1]
    limit = vitals.DEFAULT_LIMITS.for_field(field)
    return limit.label.lower() if limit is not None else "duration"


def applied(version: VitalSignPolicyVersion) -> safety.VitalSignPolicy:
    """The shipped policy with ``version``'s numbers; changed rules name the change."""
    values = {key: Decimal(text) for key, text in version.values.items()}
    who = version.signed_by.display_name
    when = timezone.localtime(version.signed_at).date().isoformat()
    mapping = safety.DEFAULT_POLICY.to_mapping()
    for rule in mapping["rules"]:
        changed = []
        for condition in rule.get("when_any", ()):
            key = f"{rule['code']}.{condition['field']}"
            condition["value"] = values[key]
            changed += [key] if values[key] != DEFAULT_VALUES[key] else []
        if sustained := rule.get("sustained"):
            key = f"{rule['code']}.for_minutes"
            sustained["for_minutes"] = values[key]
            changed += [key] if values[key] != DEFAULT_VALUES[key] else []
        if changed:
            shipped = ", ".join(f"{_shipped_words(k)} {DEFAULT_VALUES[k]}" for k in changed)
            rule["basis"] = (
                f"Clinic policy v{version.number}, signed by {who} on {when}: {version.reason} "
                f"(shipped default {shipped}). {rule['basis']}"
            )
    mapping.update(version=version.number, status=f"clinic policy v{version.number}")
    return safety.VitalSignPolicy.from_mapping(mapping)


# ---------------------------------------------------------------- the policy in force

_cached: tuple[float, safety.VitalSignPolicy] | None = None


def in_force() -> safety.VitalSignPolicy:
    """The newest signed version, or the shipped defaults before the first."""
    global _cached
    if _cached is not None and time.monotonic() < _cached[0]:
        return _cached[1]
    newest = VitalSignPolicyVersion.objects.select_related("signed_by").first()
    policy = applied(newest) if newest else safety.DEFAULT_POLICY
    _cached = (time.monotonic() + CACHE_SECONDS, policy)
    return policy


def version_number(policy: safety.VitalSignPolicy) -> int:
    """The signed version ``policy`` is, or 0 for the shipped defaults."""
    return 0 if policy is safety.DEFAULT_POLICY else policy.version


def forget() -> None:
    """Read the policy afresh next time (after a change, and between tests)."""
    global _cached
    _cached = None


# ---------------------------------------------------------------- changing it


def checked_values(entered: Mapping[str, str]) -> dict[str, Decimal]:
    """Every editable number parsed and within its bounds; errors name the key."""
    errors, values, editable = {}, {}, thresholds()
    for threshold in editable:
        raw = str(entered.get(threshold.key, "")).strip()
        where = f"{threshold.rule.label}, {threshold.label}"
        try:
            value = Decimal(raw)
        except InvalidOperation:
            errors[threshold.key] = f"{where}: enter a number, not {raw!r}"
            continue
        if not value.is_finite() or not threshold.low < value <= threshold.high:
            errors[threshold.key] = (
                f"{where} {raw} must be above {threshold.low} and at most "
                f"{threshold.high} {threshold.unit}"
            )
        values[threshold.key] = value
    if unknown := set(entered) - {t.key for t in editable}:
        errors[sorted(unknown)[0]] = f"{sorted(unknown)[0]} is not a threshold of the policy"
    if errors:
        raise ValidationError(errors)
    return values


def policy_change(
    *, request, entered: Mapping[str, str], reason: str, based_on: int
) -> VitalSignPolicyVersion:
    """Sign a new version. ``based_on`` is the version the prescriber was looking at (0 for
    the shipped defaults): if another was signed meanwhile, nothing is saved (409)."""
    reason = reason.strip()
    values = checked_values(entered)
    if not reason:
        raise ValidationError({"reason": "Say why the clinic changes its policy."})
    with transaction.atomic():
        newest = VitalSignPolicyVersion.objects.select_for_update().first()
        current = newest.number if newest else 0
        if current != based_on:
            raise PolicyConflict(current)
        before = {k: Decimal(v) for k, v in newest.values.items()} if newest else DEFAULT_VALUES
        changes = {k: [str(before[k]), str(v)] for k, v in values.items() if v != before[k]}
        if not changes:
            raise ValidationError({"reason": "No threshold differs from the policy in force."})
        try:
            with transaction.atomic():
                version = VitalSignPolicyVersion.objects.create(
                    number=current + 1,
                    values={k: str(v) for k, v in values.items()},
                    reason=reason,
                    signed_by=request.user,
                )
        except IntegrityError:  # signed by someone else at the same moment
            raise PolicyConflict(current + 1) from None
        trail.record(
            action="policy.vitals_changed",
            request=request,
            target=version,
            detail={"version": version.number, "changes": changes, "reason": reason},
        )
    forget()
    return version


class PolicyConflict(Exception):
    """Another version was signed since the prescriber opened the policy."""

    def __init__(self, current: int) -> None:
        super().__init__(
            f"The policy changed while you were editing it (now version {current}). "
            "Review the thresholds in force and sign again."
        )
        self.current = current
