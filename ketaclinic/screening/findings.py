"""The screening vocabulary's shapes: routes, indications, severities, findings and results.

Pure Python, no Django. The values live in ``screening/data/findings.yaml`` (read by
:mod:`.vocabulary`); these frozen dataclasses are what the rules engine (:mod:`.rules`) applies
and returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Route(StrEnum):
    """Routes of administration (REFERENCE.md section 2, "Routes")."""

    IV = "iv"
    IM = "im"
    ESKETAMINE = "esketamine"
    SUBLINGUAL = "sublingual"
    ORAL = "oral"


class Indication(StrEnum):
    """Indications (REFERENCE.md section 2, "Indications")."""

    TRD = "trd"
    MDD_SUICIDAL_IDEATION = "mdd_suicidal_ideation"
    PTSD = "ptsd"
    ANXIETY = "anxiety"
    CHRONIC_PAIN = "chronic_pain"
    OCD = "ocd"
    BIPOLAR_DEPRESSION = "bipolar_depression"


class Severity(StrEnum):
    """How much a finding weighs in the decision."""

    EXCLUDE = "exclude"
    CAUTION = "caution"
    INFO = "info"


class Decision(StrEnum):
    """Outcome of a screening evaluation; a clinician signs it in every case."""

    ELIGIBLE = "eligible"
    NEEDS_REVIEW = "needs_review"
    INELIGIBLE = "ineligible"


# Findings are listed most serious first; within a severity, in vocabulary order.


class VocabularyError(ValueError):
    """The findings data file itself is malformed: a bug in the shipped data, not user input."""


@dataclass(frozen=True)
class ComputedRule:
    """How a computed finding is derived, with its numbers taken from the data file.

    ``kind`` is one of the rule kinds this engine implements (see ``_RULES``); the other
    fields are the parameters that kind needs, ``None`` when unused.
    """

    kind: str
    age_years: int | None = None
    systolic_mmhg: int | None = None
    diastolic_mmhg: int | None = None
    min_adequate_trials: int | None = None
    route: Route | None = None
    indication: Indication | None = None
    clinic_editable: bool = False


@dataclass(frozen=True)
class VocabularyEntry:
    """One row of the findings vocabulary (REFERENCE.md section 2)."""

    code: str
    finding: str
    severity: Severity
    message: str
    sources: tuple[str, ...]
    record_area: str
    record_sensitive: bool
    severity_by_route: tuple[tuple[Route, Severity], ...] = ()
    message_if_unknown: str | None = None
    computed: ComputedRule | None = None
    suppressed_by: str | None = None

    def message_for(self, outcome: str, reading_mmhg: str | None) -> str:
        """Message text with the rule's numbers (and today's reading) filled in.

        Messages of computed findings name their thresholds as ``{age_years}``,
        ``{systolic_mmhg}``... so a clinic that edits a threshold never shows a stale number.
        """
        template = self.message
        if outcome == "unknown" and self.message_if_unknown is not None:
            template = self.message_if_unknown
        if self.computed is None:
            return template
        return template.format(**_template_values(self.computed, reading_mmhg or "?/?"))

    @property
    def is_computed(self) -> bool:
        """True when the engine derives this finding; it is then never accepted as input."""
        return self.computed is not None

    def severity_for(self, route: Route) -> Severity:
        """Severity of this finding for ``route`` (e.g. severe hepatic impairment)."""
        return dict(self.severity_by_route).get(route, self.severity)


def _template_values(rule: ComputedRule, reading_mmhg: str) -> dict[str, Any]:
    values = {
        name: getattr(rule, name)
        for name in ("age_years", "systolic_mmhg", "diastolic_mmhg", "min_adequate_trials")
        if getattr(rule, name) is not None
    }
    if rule.kind == "bp_at_or_above":
        values["reading_mmhg"] = reading_mmhg
    return values


@dataclass(frozen=True)
class InputLimit:
    """Plausible range of an input, inclusive, with the basis for it."""

    min: int
    max: int
    sources: tuple[str, ...]
    clinic_editable: bool


@dataclass(frozen=True)
class Vocabulary:
    """The loaded and validated findings data file."""

    version: int
    entries: tuple[VocabularyEntry, ...]
    age_years: InputLimit
    systolic_mmhg: InputLimit
    diastolic_mmhg: InputLimit
    decision_rule: str
    by_code: Mapping[str, VocabularyEntry] = field(compare=False, repr=False)
    order: Mapping[str, int] = field(compare=False, repr=False)


@dataclass(frozen=True)
class Finding:
    """A finding that applies to this patient today."""

    code: str
    severity: Severity
    message: str
    sources: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form: plain strings and lists."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "sources": list(self.sources),
        }


@dataclass(frozen=True)
class ScreeningResult:
    """Decision and the findings behind it, most serious first."""

    decision: Decision
    findings: tuple[Finding, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for ``POST /api/v1/screening/evaluate``."""
        return {
            "decision": self.decision.value,
            "findings": [finding.as_dict() for finding in self.findings],
        }
