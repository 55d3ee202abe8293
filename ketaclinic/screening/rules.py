"""Screening rules engine: is this patient eligible for this route and indication?

Pure Python over plain data, no Django. The vocabulary of findings, their severities, the
numbers of the computed rules and the limits on the inputs all live in
``screening/data/findings.yaml``, which transcribes shared/domain/REFERENCE.md section 2 row by
row; this module only knows how to apply them.

The decision rule (REFERENCE.md section 2): ``ineligible`` if any finding is ``exclude``, else
``needs_review`` if any is ``caution``, else ``eligible``. The software advises; a clinician
signs the decision in every case.

Typical use::

    result = evaluate(route="iv", indication="trd", age_years=42,
                      adequate_antidepressant_trials=3, findings={"cns_depressants"},
                      systolic_mmhg=128, diastolic_mmhg=82)
    result.decision          # Decision.NEEDS_REVIEW
    result.as_dict()         # JSON-ready for the API
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

__all__ = [
    "ComputedRule",
    "Decision",
    "Finding",
    "Indication",
    "InputLimit",
    "Route",
    "ScreeningInputError",
    "ScreeningResult",
    "Severity",
    "Vocabulary",
    "VocabularyEntry",
    "VocabularyError",
    "evaluate",
    "load_vocabulary",
    "parse_vocabulary",
    "record_sensitive_codes",
    "reportable_codes",
    "vocabulary",
    "vocabulary_entries",
]


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
_SEVERITY_RANK = {Severity.EXCLUDE: 0, Severity.CAUTION: 1, Severity.INFO: 2}

DEFAULT_VOCABULARY_FILE = "findings.yaml"


class ScreeningInputError(ValueError):
    """An input to :func:`evaluate` is missing, unknown or implausible.

    ``field`` names the offending input so the API can point at it (HTTP 422).
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


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


# --------------------------------------------------------------------------------------------
# Loading and validating the data file
# --------------------------------------------------------------------------------------------

_ENTRY_KEYS = {
    "code",
    "finding",
    "severity",
    "severity_by_route",
    "message",
    "message_if_unknown",
    "sources",
    "computed",
    "suppressed_by",
    "record_area",
    "record_sensitive",
}
_TOP_KEYS = {"version", "reference", "decision_rule", "input_limits", "record_areas", "findings"}

# Parameters each rule kind needs (all required, no others allowed besides clinic_editable).
_RULE_PARAMS: dict[str, frozenset[str]] = {
    "age_below": frozenset({"age_years"}),
    "age_at_or_above": frozenset({"age_years", "route"}),
    "bp_at_or_above": frozenset({"systolic_mmhg", "diastolic_mmhg"}),
    "too_few_trials": frozenset({"indication", "min_adequate_trials"}),
    "needs_oral_antidepressant": frozenset({"route", "indication"}),
}


def _fail(where: str, problem: str) -> VocabularyError:
    return VocabularyError(f"findings data, {where}: {problem}")


def _require_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(where, f"expected a whole number, got {value!r}")
    return value


def _require_text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, "expected non-empty text")
    return " ".join(value.split())


def _require_sources(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise _fail(where, "every entry must name at least one source")
    return tuple(_require_text(source, where) for source in value)


def _enum(enum: type[StrEnum], value: Any, where: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise _fail(where, f"{value!r} is not one of {allowed}") from None


def _parse_limit(raw: Any, where: str) -> InputLimit:
    if not isinstance(raw, dict):
        raise _fail(where, "expected a mapping")
    low = _require_int(raw.get("min"), f"{where}.min")
    high = _require_int(raw.get("max"), f"{where}.max")
    if low > high:
        raise _fail(where, "min is above max")
    return InputLimit(
        min=low,
        max=high,
        sources=_require_sources(raw.get("sources"), f"{where}.sources"),
        clinic_editable=bool(raw.get("clinic_editable", False)),
    )


def _parse_rule(raw: Any, where: str) -> ComputedRule:
    if not isinstance(raw, dict):
        raise _fail(where, "expected a mapping")
    kind = raw.get("rule")
    if kind not in _RULE_PARAMS:
        raise _fail(where, f"unknown rule {kind!r}; known: {', '.join(sorted(_RULE_PARAMS))}")
    params = set(raw) - {"rule", "clinic_editable"}
    needed = _RULE_PARAMS[kind]
    if params != needed:
        raise _fail(where, f"rule {kind} needs exactly {sorted(needed)}, got {sorted(params)}")
    values: dict[str, Any] = {}
    for name in needed:
        if name == "route":
            values[name] = _enum(Route, raw[name], f"{where}.route")
        elif name == "indication":
            values[name] = _enum(Indication, raw[name], f"{where}.indication")
        else:
            values[name] = _require_int(raw[name], f"{where}.{name}")
    return ComputedRule(
        kind=kind, clinic_editable=bool(raw.get("clinic_editable", False)), **values
    )


def _parse_entry(raw: Any, index: int, record_areas: set[str]) -> VocabularyEntry:
    where = f"findings[{index}]"
    if not isinstance(raw, dict):
        raise _fail(where, "expected a mapping")
    unknown = set(raw) - _ENTRY_KEYS
    if unknown:
        raise _fail(where, f"unknown keys {sorted(unknown)}")
    code = _require_text(raw.get("code"), f"{where}.code")
    where = f"finding {code!r}"
    by_route = raw.get("severity_by_route") or {}
    if not isinstance(by_route, dict):
        raise _fail(f"{where}.severity_by_route", "expected a mapping of route to severity")
    record_area = raw.get("record_area")
    if record_area not in record_areas:
        raise _fail(f"{where}.record_area", f"{record_area!r} is not in record_areas")
    if not isinstance(raw.get("record_sensitive"), bool):
        raise _fail(f"{where}.record_sensitive", "expected true or false")
    unknown_message = raw.get("message_if_unknown")
    if unknown_message is not None and raw.get("computed") is None:
        raise _fail(f"{where}.message_if_unknown", "only computed findings can be unknown")
    suppressed_by = raw.get("suppressed_by")
    if suppressed_by is not None and not isinstance(suppressed_by, str):
        raise _fail(f"{where}.suppressed_by", "expected a finding code")
    entry = VocabularyEntry(
        code=code,
        finding=_require_text(raw.get("finding"), f"{where}.finding"),
        severity=_enum(Severity, raw.get("severity"), f"{where}.severity"),
        severity_by_route=tuple(
            (
                _enum(Route, route, f"{where}.severity_by_route"),
                _enum(Severity, severity, f"{where}.severity_by_route"),
            )
            for route, severity in by_route.items()
        ),
        message=_require_text(raw.get("message"), f"{where}.message"),
        message_if_unknown=(
            None
            if unknown_message is None
            else _require_text(unknown_message, f"{where}.message_if_unknown")
        ),
        sources=_require_sources(raw.get("sources"), f"{where}.sources"),
        computed=(
            None
            if raw.get("computed") is None
            else _parse_rule(raw["computed"], where + ".computed")
        ),
        suppressed_by=suppressed_by,
        record_area=record_area,
        record_sensitive=raw["record_sensitive"],
    )
    _check_message_placeholders(entry, where)
    return entry


def _check_message_placeholders(entry: VocabularyEntry, where: str) -> None:
    """Fail at load time, not at a patient's screening, if a message names an unknown number."""
    for outcome in ("known", "unknown"):
        try:
            entry.message_for(outcome, "120/80")
        except (KeyError, IndexError, ValueError) as error:
            raise _fail(f"{where}.message", f"bad placeholder {error}") from None


def _check_cross_references(entries: tuple[VocabularyEntry, ...]) -> None:
    codes = [entry.code for entry in entries]
    duplicates = sorted({code for code in codes if codes.count(code) > 1})
    if duplicates:
        raise _fail("findings", f"duplicate codes {duplicates}")
    computed = {entry.code for entry in entries if entry.is_computed}
    for entry in entries:
        if entry.suppressed_by is not None and entry.suppressed_by not in computed:
            raise _fail(
                f"finding {entry.code!r}.suppressed_by",
                f"{entry.suppressed_by!r} is not a computed finding",
            )
        if entry.suppressed_by is not None and not entry.is_computed:
            raise _fail(f"finding {entry.code!r}", "only computed findings can be suppressed")


def parse_vocabulary(document: Any) -> Vocabulary:
    """Validate a parsed findings document and build the :class:`Vocabulary`.

    Raises :class:`VocabularyError` naming the first problem found.
    """
    if not isinstance(document, dict):
        raise _fail("top level", "expected a mapping")
    unknown = set(document) - _TOP_KEYS
    if unknown:
        raise _fail("top level", f"unknown keys {sorted(unknown)}")
    record_areas = document.get("record_areas")
    if not isinstance(record_areas, list) or not record_areas:
        raise _fail("record_areas", "expected a non-empty list")
    raw_entries = document.get("findings")
    if not isinstance(raw_entries, list) or not raw_entries:
        raise _fail("findings", "expected a non-empty list")
    entries = tuple(
        _parse_entry(raw, index, set(record_areas)) for index, raw in enumerate(raw_entries)
    )
    _check_cross_references(entries)
    limits = document.get("input_limits")
    if not isinstance(limits, dict):
        raise _fail("input_limits", "expected a mapping")
    rule = document.get("decision_rule")
    if not isinstance(rule, dict):
        raise _fail("decision_rule", "expected a mapping")
    return Vocabulary(
        version=_require_int(document.get("version"), "version"),
        entries=entries,
        age_years=_parse_limit(limits.get("age_years"), "input_limits.age_years"),
        systolic_mmhg=_parse_limit(limits.get("systolic_mmhg"), "input_limits.systolic_mmhg"),
        diastolic_mmhg=_parse_limit(limits.get("diastolic_mmhg"), "input_limits.diastolic_mmhg"),
        decision_rule=_require_text(rule.get("text"), "decision_rule.text"),
        by_code=MappingProxyType({entry.code: entry for entry in entries}),
        order=MappingProxyType({entry.code: index for index, entry in enumerate(entries)}),
    )


def load_vocabulary(path: Path | None = None) -> Vocabulary:
    """Load and validate a findings file; without ``path``, the shipped one (cached)."""
    if path is None:
        return _shipped_vocabulary()
    return parse_vocabulary(yaml.safe_load(path.read_text(encoding="utf-8")))


@cache
def _shipped_vocabulary() -> Vocabulary:
    text = (
        resources.files(__package__)
        .joinpath("data", DEFAULT_VOCABULARY_FILE)
        .read_text(encoding="utf-8")
    )
    return parse_vocabulary(yaml.safe_load(text))


def vocabulary() -> Vocabulary:
    """The shipped vocabulary, loaded once."""
    return _shipped_vocabulary()


def vocabulary_entries(*, include_computed: bool = True) -> tuple[VocabularyEntry, ...]:
    """Vocabulary rows in REFERENCE.md order, for forms and the API.

    Forms offer only reportable findings: pass ``include_computed=False``.
    """
    entries = vocabulary().entries
    return entries if include_computed else tuple(e for e in entries if not e.is_computed)


def reportable_codes() -> tuple[str, ...]:
    """Codes a clinician may report as input to :func:`evaluate`, in vocabulary order."""
    return tuple(entry.code for entry in vocabulary_entries(include_computed=False))


def record_sensitive_codes(record_area: str | None = None) -> frozenset[str]:
    """Codes whose change in the patient record must trigger re-screening.

    With ``record_area`` (e.g. ``"medications"``), only the codes drawn from that part of
    the record, so a medication change re-screens the medication findings.
    """
    return frozenset(
        entry.code
        for entry in vocabulary().entries
        if entry.record_sensitive and (record_area is None or entry.record_area == record_area)
    )


# --------------------------------------------------------------------------------------------
# Validating the inputs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Inputs:
    """Validated inputs of one evaluation."""

    route: Route
    indication: Indication
    age_years: int
    adequate_antidepressant_trials: int
    reported: frozenset[str]
    systolic_mmhg: float | None
    diastolic_mmhg: float | None
    oral_antidepressant: bool | None


def _parse_choice(enum: type[StrEnum], value: Any, field_name: str) -> Any:
    if value is None:
        raise ScreeningInputError(field_name, "is required")
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise ScreeningInputError(
            field_name, f"unknown {field_name} {value!r}; expected one of {allowed}"
        ) from None


def _parse_whole_number(value: Any, field_name: str, low: int, high: int | None) -> int:
    if value is None:
        raise ScreeningInputError(field_name, "is required")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScreeningInputError(field_name, f"must be a whole number, got {value!r}")
    if value < low:
        raise ScreeningInputError(field_name, f"must be at least {low}, got {value}")
    if high is not None and value > high:
        raise ScreeningInputError(field_name, f"must be at most {high}, got {value}")
    return value


def _parse_reading(value: Any, field_name: str, limit: InputLimit) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ScreeningInputError(field_name, f"must be a number in mmHg, got {value!r}")
    if not limit.min <= value <= limit.max:
        raise ScreeningInputError(
            field_name,
            f"{value} mmHg is not a plausible reading (accepted {limit.min}-{limit.max} mmHg); "
            "re-measure",
        )
    return value


def _parse_blood_pressure(
    systolic: Any, diastolic: Any, vocab: Vocabulary
) -> tuple[float | None, float | None]:
    if systolic is None and diastolic is None:
        return None, None
    if systolic is None:
        raise ScreeningInputError("systolic_mmhg", "give both readings or neither")
    if diastolic is None:
        raise ScreeningInputError("diastolic_mmhg", "give both readings or neither")
    systolic_mmhg = _parse_reading(systolic, "systolic_mmhg", vocab.systolic_mmhg)
    diastolic_mmhg = _parse_reading(diastolic, "diastolic_mmhg", vocab.diastolic_mmhg)
    if diastolic_mmhg >= systolic_mmhg:
        raise ScreeningInputError(
            "diastolic_mmhg",
            f"diastolic {diastolic_mmhg} must be below systolic {systolic_mmhg}; re-measure",
        )
    return systolic_mmhg, diastolic_mmhg


def _parse_reported(findings: Any, vocab: Vocabulary) -> frozenset[str]:
    # A bare string would be iterated letter by letter: refuse it explicitly.
    if isinstance(findings, str | bytes) or not isinstance(findings, Iterable):
        raise ScreeningInputError("findings", "must be a list of finding codes")
    codes = list(findings)
    not_text = [code for code in codes if not isinstance(code, str)]
    if not_text:
        raise ScreeningInputError("findings", f"codes must be text, got {not_text!r}")
    unknown = sorted({code for code in codes if code not in vocab.by_code})
    if unknown:
        raise ScreeningInputError(
            "findings",
            f"unknown finding codes {unknown}; see the screening vocabulary for valid codes",
        )
    computed = sorted({code for code in codes if vocab.by_code[code].is_computed})
    if computed:
        raise ScreeningInputError(
            "findings",
            f"{computed} are computed by the engine from age, blood pressure, antidepressant "
            "trials, route and indication; pass those inputs instead of the codes, so the "
            "finding always matches the data it is based on",
        )
    return frozenset(codes)


def _parse_inputs(vocab: Vocabulary, **raw: Any) -> _Inputs:
    oral_antidepressant = raw["oral_antidepressant"]
    if oral_antidepressant is not None and not isinstance(oral_antidepressant, bool):
        raise ScreeningInputError(
            "oral_antidepressant", f"must be true, false or not given, got {oral_antidepressant!r}"
        )
    systolic_mmhg, diastolic_mmhg = _parse_blood_pressure(
        raw["systolic_mmhg"], raw["diastolic_mmhg"], vocab
    )
    return _Inputs(
        route=_parse_choice(Route, raw["route"], "route"),
        indication=_parse_choice(Indication, raw["indication"], "indication"),
        age_years=_parse_whole_number(
            raw["age_years"], "age_years", vocab.age_years.min, vocab.age_years.max
        ),
        adequate_antidepressant_trials=_parse_whole_number(
            raw["adequate_antidepressant_trials"], "adequate_antidepressant_trials", 0, None
        ),
        reported=_parse_reported(raw["findings"], vocab),
        systolic_mmhg=systolic_mmhg,
        diastolic_mmhg=diastolic_mmhg,
        oral_antidepressant=oral_antidepressant,
    )


# --------------------------------------------------------------------------------------------
# Computed rules: each returns None (does not apply), "known" or "unknown" (applies because an
# input it needs was not given; the finding then carries its message_if_unknown).
# --------------------------------------------------------------------------------------------

_Applies = str | None


def _age_below(rule: ComputedRule, given: _Inputs) -> _Applies:
    assert rule.age_years is not None
    return "known" if given.age_years < rule.age_years else None


def _age_at_or_above(rule: ComputedRule, given: _Inputs) -> _Applies:
    assert rule.age_years is not None
    if given.route == rule.route and given.age_years >= rule.age_years:
        return "known"
    return None


def _bp_at_or_above(rule: ComputedRule, given: _Inputs) -> _Applies:
    # No reading today: nothing to compute. The session checklist measures BP before dosing.
    if given.systolic_mmhg is None or given.diastolic_mmhg is None:
        return None
    assert rule.systolic_mmhg is not None
    assert rule.diastolic_mmhg is not None
    if given.systolic_mmhg >= rule.systolic_mmhg or given.diastolic_mmhg >= rule.diastolic_mmhg:
        return "known"
    return None


def _too_few_trials(rule: ComputedRule, given: _Inputs) -> _Applies:
    assert rule.min_adequate_trials is not None
    if (
        given.indication == rule.indication
        and given.adequate_antidepressant_trials < rule.min_adequate_trials
    ):
        return "known"
    return None


def _needs_oral_antidepressant(rule: ComputedRule, given: _Inputs) -> _Applies:
    if given.route != rule.route or given.indication != rule.indication:
        return None
    if given.oral_antidepressant is True:
        return None
    # Not recorded is treated as "not known": flag it for review rather than assume it is
    # taken, because the label requires it and a caution only asks a clinician to confirm.
    return "unknown" if given.oral_antidepressant is None else "known"


_RULES: dict[str, Callable[[ComputedRule, _Inputs], _Applies]] = {
    "age_below": _age_below,
    "age_at_or_above": _age_at_or_above,
    "bp_at_or_above": _bp_at_or_above,
    "too_few_trials": _too_few_trials,
    "needs_oral_antidepressant": _needs_oral_antidepressant,
}


def _computed_findings(vocab: Vocabulary, given: _Inputs) -> dict[str, str]:
    """Computed codes that apply, mapped to "known" or "unknown"."""
    applies: dict[str, str] = {}
    for entry in vocab.entries:
        if entry.computed is None:
            continue
        outcome = _RULES[entry.computed.kind](entry.computed, given)
        if outcome is not None:
            applies[entry.code] = outcome
    # "elevated_bp_today" is the band below "bp_too_high_today": never show both.
    for code in list(applies):
        suppressor = vocab.by_code[code].suppressed_by
        if suppressor is not None and suppressor in applies:
            del applies[code]
    return applies


def _decide(findings: Iterable[Finding]) -> Decision:
    severities = {finding.severity for finding in findings}
    if Severity.EXCLUDE in severities:
        return Decision.INELIGIBLE
    if Severity.CAUTION in severities:
        return Decision.NEEDS_REVIEW
    return Decision.ELIGIBLE


def evaluate(
    *,
    route: str,
    indication: str,
    age_years: int,
    adequate_antidepressant_trials: int,
    findings: Iterable[str] = (),
    systolic_mmhg: float | None = None,
    diastolic_mmhg: float | None = None,
    oral_antidepressant: bool | None = None,
) -> ScreeningResult:
    """Screen one patient for one route and indication.

    Parameters
    ----------
    route : {"iv", "im", "esketamine", "sublingual", "oral"}
    indication : {"trd", "mdd_suicidal_ideation", "ptsd", "anxiety", "chronic_pain", "ocd",
        "bipolar_depression"}
    age_years : int
        Whole years, 0-130 (limits in the data file).
    adequate_antidepressant_trials : int
        Number of adequate antidepressant trials, 0 or more.
    findings : iterable of str
        Reported (not computed) finding codes; see :func:`reportable_codes`.
    systolic_mmhg, diastolic_mmhg : float, optional
        Blood pressure measured today; both or neither. Plausibility limits from
        REFERENCE.md section 3; diastolic must be below systolic.
    oral_antidepressant : bool, optional
        Whether the patient takes an oral antidepressant. Only matters for esketamine in
        ``mdd_suicidal_ideation``; not given means "not known", which is flagged for review.

    Returns
    -------
    ScreeningResult
        The decision and the findings, excludes first, then cautions, then info, each group
        in vocabulary (REFERENCE.md) order.

    Raises
    ------
    ScreeningInputError
        Unknown route, indication or code; a computed code given as input; age missing,
        negative or over the limit; negative trials; implausible or half-given BP.
    """
    vocab = vocabulary()
    given = _parse_inputs(
        vocab,
        route=route,
        indication=indication,
        age_years=age_years,
        adequate_antidepressant_trials=adequate_antidepressant_trials,
        findings=findings,
        systolic_mmhg=systolic_mmhg,
        diastolic_mmhg=diastolic_mmhg,
        oral_antidepressant=oral_antidepressant,
    )
    applies = dict.fromkeys(given.reported, "known") | _computed_findings(vocab, given)
    result: list[Finding] = []
    reading_mmhg = (
        None
        if given.systolic_mmhg is None or given.diastolic_mmhg is None
        else f"{given.systolic_mmhg:g}/{given.diastolic_mmhg:g}"
    )
    for code, outcome in applies.items():
        entry = vocab.by_code[code]
        result.append(
            Finding(
                code=code,
                severity=entry.severity_for(given.route),
                message=entry.message_for(outcome, reading_mmhg),
                sources=entry.sources,
            )
        )
    result.sort(key=lambda f: (_SEVERITY_RANK[f.severity], vocab.order[f.code]))
    return ScreeningResult(decision=_decide(result), findings=tuple(result))
