"""When a signed screening stops holding: it expired, or the record changed under it.

Pure Python, no Django. At signing, the facts the rules read from the record are reduced to a
fingerprint (the findings derived from the record, the adequate antidepressant trials, the
record's oral antidepressant, and the age band between the rules' age thresholds). Later,
:func:`stale_reasons` compares that fingerprint with today's and says, in words, what changed.
How long a screening holds is data: ``screening/data/validity.yaml`` ([U], clinic-editable).
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from . import rules

__all__ = [
    "FINGERPRINT_VERSION",
    "RecordFacts",
    "ValidityPolicy",
    "age_band",
    "age_thresholds",
    "fingerprint",
    "last_valid_day",
    "policy",
    "stale_reasons",
]

FINGERPRINT_VERSION = 1


@dataclass(frozen=True)
class ValidityPolicy:
    valid_days: int
    sources: tuple[str, ...]


@cache
def policy() -> ValidityPolicy:
    """The shipped validity policy (``screening/data/validity.yaml``)."""
    text = (
        resources.files(__package__).joinpath("data", "validity.yaml").read_text(encoding="utf-8")
    )
    raw = yaml.safe_load(text)["valid_days"]
    days = raw["value"]
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError("validity.yaml: valid_days.value must be a whole number of days >= 1")
    if not raw.get("sources"):
        raise ValueError("validity.yaml: valid_days must name its sources")
    return ValidityPolicy(days, tuple(raw["sources"]))


def last_valid_day(signed_on: dt.date, valid_days: int | None = None) -> dt.date:
    """The last day a screening signed on ``signed_on`` holds (the signing day is day 1)."""
    days = policy().valid_days if valid_days is None else valid_days
    return signed_on + dt.timedelta(days=days - 1)


@dataclass(frozen=True)
class RecordFacts:
    """What the rules read from the record rather than the form."""

    age_years: int
    adequate_trials: int
    derived_codes: frozenset[str]
    oral_antidepressant_on_record: bool


@cache
def age_thresholds() -> tuple[int, ...]:
    """Ages at which a rule starts or stops applying, from the findings vocabulary."""
    return tuple(
        sorted(
            {
                entry.computed.age_years
                for entry in rules.vocabulary().entries
                if entry.computed is not None and entry.computed.age_years is not None
            }
        )
    )


def age_band(age_years: int, thresholds: Iterable[int] | None = None) -> str:
    """``"under 18"``, ``"18 to 64"``, ``"65 or over"`` for the default thresholds."""
    limits = tuple(age_thresholds() if thresholds is None else sorted(thresholds))
    index = bisect_right(limits, age_years)
    if index == 0:
        return f"under {limits[0]}"
    if index == len(limits):
        return f"{limits[-1]} or over"
    return f"{limits[index - 1]} to {limits[index] - 1}"


def fingerprint(facts: RecordFacts) -> dict[str, Any]:
    """JSON-ready summary of the rule-relevant facts, stored with the signature."""
    order = rules.vocabulary().order
    return {
        "version": FINGERPRINT_VERSION,
        "codes": sorted(facts.derived_codes, key=lambda code: order.get(code, len(order))),
        "adequate_trials": facts.adequate_trials,
        "age_band": age_band(facts.age_years),
        "oral_antidepressant": facts.oral_antidepressant_on_record,
    }


_ADDED = {
    "medications": "new medication in {code} since screening",
    "diagnoses": "new diagnosis of {finding} since screening",
}


def _added(code: str) -> str:
    entry = rules.vocabulary().by_code.get(code)
    area = entry.record_area if entry else ""
    template = _ADDED.get(area, "{finding} newly on the record since screening")
    return template.format(code=code, finding=entry.finding if entry else code)


def stale_reasons(then: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """What changed in the rule-relevant facts between two fingerprints; empty if nothing.

    Examples
    --------
    >>> then = {"version": 1, "codes": [], "adequate_trials": 2, "age_band": "18 to 64",
    ...         "oral_antidepressant": True}
    >>> stale_reasons(then, then | {"codes": ["cns_depressants"]})
    ['new medication in cns_depressants since screening']
    """
    if then.get("version") != now.get("version"):
        return ["the screening predates the current screening rules"]
    reasons: list[str] = []
    before, after = list(then.get("codes", [])), list(now.get("codes", []))
    reasons += [_added(code) for code in after if code not in before]
    reasons += [
        f"{code} no longer on the record since screening" for code in before if code not in after
    ]
    if then.get("adequate_trials") != now.get("adequate_trials"):
        reasons.append(
            f"adequate antidepressant trials changed from {then.get('adequate_trials')} to "
            f"{now.get('adequate_trials')} since screening"
        )
    if then.get("age_band") != now.get("age_band"):
        reasons.append(
            f"the patient's age moved from {then.get('age_band')} to {now.get('age_band')} "
            "since screening"
        )
    if then.get("oral_antidepressant") != now.get("oral_antidepressant"):
        started = now.get("oral_antidepressant")
        reasons.append(
            f"oral antidepressant {'started' if started else 'stopped'} on the record since "
            "screening"
        )
    return reasons
