"""The shape of an outcome instrument: frozen dataclasses for items, bands, flags and rules.

``definitions`` builds these from the YAML files after validating them; scoring, the
portal, the chart and analytics read them. Nothing here touches Django or the files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class AnswerOption:
    value: int
    text: str
    # Only for ``max_item_risk`` rules: the risk rank this answer carries.
    risk: int | None = None


@dataclass(frozen=True)
class Item:
    number: int
    text: str
    options: tuple[AnswerOption, ...]
    # Numbering in the parent instrument when this is a short form (e.g. CADSS-6).
    source_item: int | None = None

    @property
    def values(self) -> frozenset[int]:
        return frozenset(option.value for option in self.options)

    @property
    def min_value(self) -> int:
        return min(self.values)

    @property
    def max_value(self) -> int:
        return max(self.values)

    def option(self, value: int) -> AnswerOption:
        for option in self.options:
            if option.value == value:
                return option
        raise KeyError(value)


@dataclass(frozen=True)
class Band:
    code: str
    label: str
    min_total: int
    max_total: int
    note: str = ""

    def contains(self, total: int) -> bool:
        return self.min_total <= total <= self.max_total


@dataclass(frozen=True)
class FlagRule:
    """Raise ``code`` when the answer to ``item`` is greater than ``above``."""

    code: str
    item: int
    above: int
    source: str
    note: str = ""


@dataclass(frozen=True)
class Domain:
    """A group of items: a QIDS-SR16 domain (scored as the maximum) or a PCL-5 cluster."""

    code: str
    name: str
    items: tuple[int, ...]
    # PCL-5 provisional diagnosis: endorsed items this cluster needs.
    min_endorsed: int | None = None


@dataclass(frozen=True)
class ScoringRule:
    type: str
    source: str
    domains: tuple[Domain, ...] = ()
    # PCL-5: an item answered at or above this value counts as an endorsed symptom.
    endorsed_at: int | None = None


@dataclass(frozen=True)
class ResponseRule:
    """Response is a fall from baseline of at least ``fall_pct`` percent or ``fall_points``."""

    source: str
    fall_pct: int | None = None
    fall_points: int | None = None


@dataclass(frozen=True)
class RemissionRule:
    code: str
    at_most: int
    source: str


@dataclass(frozen=True)
class OutcomeRules:
    response: ResponseRule | None
    # The first rule is the primary definition; others are kept alongside (MADRS ≤10 and ≤12).
    remission: tuple[RemissionRule, ...] = ()


@dataclass(frozen=True)
class LoincCode:
    role: str
    code: str
    verified: bool
    note: str = ""


@dataclass(frozen=True)
class ClinicAlternative:
    """A related instrument the clinic may load itself; only its sourced facts ship."""

    code: str
    name: str
    source: str
    note: str
    source_items: tuple[int, ...] = ()


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    version: int
    status: str
    rater: str
    licence: str
    source: str
    item_text_verified: bool
    stem: str
    items: tuple[Item, ...]
    scoring: ScoringRule
    total_min: int
    total_max: int
    bands: tuple[Band, ...]
    flags: tuple[FlagRule, ...]
    outcome: OutcomeRules
    loinc: tuple[LoincCode, ...] = ()
    alternatives: tuple[ClinicAlternative, ...] = ()
    citation: str = ""
    notes: str = ""

    def item(self, number: int) -> Item:
        """Item by its 1-based number."""
        if not 1 <= number <= len(self.items):
            raise IndexError(f"{self.code} has no item {number}")
        return self.items[number - 1]

    def band_for(self, total: int) -> Band | None:
        """The band holding ``total``, or None for instruments without bands (pain NRS)."""
        for band in self.bands:
            if band.contains(total):
                return band
        return None


def total_range(items: Sequence[Item], rule: ScoringRule) -> tuple[int, int]:
    """The lowest and highest total the items can produce under ``rule``."""
    if rule.type == "max_item_risk":
        lows = [min(o.risk or 0 for o in item.options) for item in items]
        highs = [max(o.risk or 0 for o in item.options) for item in items]
        return max(lows), max(highs)
    if rule.type == "qids_domains":
        by_number = {item.number: item for item in items}
        low = sum(max(by_number[n].min_value for n in d.items) for d in rule.domains)
        high = sum(max(by_number[n].max_value for n in d.items) for d in rule.domains)
        return low, high
    return sum(item.min_value for item in items), sum(item.max_value for item in items)
