"""The findings vocabulary: ``screening/data/findings.yaml`` validated, loaded once, looked up.

Pure Python, no Django. The file transcribes shared/domain/REFERENCE.md section 2 row by row;
this module refuses a malformed file (unknown keys, missing sources, unknown rule kinds, a
message naming a number its rule does not have) when it is loaded, never at a patient's
screening.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from .findings import (
    ComputedRule,
    Indication,
    InputLimit,
    Route,
    Severity,
    Vocabulary,
    VocabularyEntry,
    VocabularyError,
)

DEFAULT_VOCABULARY_FILE = "findings.yaml"


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


def oral_antidepressant_rule(route: str, indication: str) -> VocabularyEntry | None:
    """The finding that requires an oral antidepressant with ``route`` for ``indication``.

    Screening flags it; a plan for the same pair must name the antidepressant. One rule in
    the data file serves both, so the two can never disagree.
    """
    for entry in vocabulary().entries:
        rule = entry.computed
        if (
            rule is not None
            and rule.kind == "needs_oral_antidepressant"
            and rule.route == route
            and rule.indication == indication
        ):
            return entry
    return None
