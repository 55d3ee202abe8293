"""Screening rules engine: is this patient eligible for this route and indication?

Pure Python over plain data, no Django. The vocabulary of findings, their severities, the
numbers of the computed rules and the limits on the inputs all live in
``screening/data/findings.yaml``, which transcribes shared/domain/REFERENCE.md section 2 row by
row; this module only knows how to apply them.

The decision rule (REFERENCE.md section 2): ``ineligible`` if any finding is ``exclude``, else
``needs_review`` if any is ``caution``, else ``eligible``. The software advises; a clinician
signs the decision in every case.

The vocabulary's shapes live in :mod:`.findings`, its loading in :mod:`.vocabulary` and the
input checks in :mod:`.inputs`; this module applies the rules and re-exports the rest.

Typical use::

    result = evaluate(route="iv", indication="trd", age_years=42,
                      adequate_antidepressant_trials=3, findings={"cns_depressants"},
                      systolic_mmhg=128, diastolic_mmhg=82)
    result.decision          # Decision.NEEDS_REVIEW
    result.as_dict()         # JSON-ready for the API
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .findings import (
    ComputedRule,
    Decision,
    Finding,
    Indication,
    InputLimit,
    Route,
    ScreeningResult,
    Severity,
    Vocabulary,
    VocabularyEntry,
    VocabularyError,
)
from .inputs import Inputs, ScreeningInputError, parse_inputs
from .vocabulary import (
    load_vocabulary,
    parse_vocabulary,
    record_sensitive_codes,
    reportable_codes,
    vocabulary,
    vocabulary_entries,
)

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

# Findings are listed most serious first; within a severity, in vocabulary order.
_SEVERITY_RANK = {Severity.EXCLUDE: 0, Severity.CAUTION: 1, Severity.INFO: 2}


# --------------------------------------------------------------------------------------------
# Computed rules: each returns None (does not apply), "known" or "unknown" (applies because an
# input it needs was not given; the finding then carries its message_if_unknown).
# --------------------------------------------------------------------------------------------

_Applies = str | None


def _age_below(rule: ComputedRule, given: Inputs) -> _Applies:
    assert rule.age_years is not None
    return "known" if given.age_years < rule.age_years else None


def _age_at_or_above(rule: ComputedRule, given: Inputs) -> _Applies:
    assert rule.age_years is not None
    if given.route == rule.route and given.age_years >= rule.age_years:
        return "known"
    return None


def _bp_at_or_above(rule: ComputedRule, given: Inputs) -> _Applies:
    # No reading today: nothing to compute. The session checklist measures BP before dosing.
    if given.systolic_mmhg is None or given.diastolic_mmhg is None:
        return None
    assert rule.systolic_mmhg is not None
    assert rule.diastolic_mmhg is not None
    if given.systolic_mmhg >= rule.systolic_mmhg or given.diastolic_mmhg >= rule.diastolic_mmhg:
        return "known"
    return None


def _too_few_trials(rule: ComputedRule, given: Inputs) -> _Applies:
    assert rule.min_adequate_trials is not None
    if (
        given.indication == rule.indication
        and given.adequate_antidepressant_trials < rule.min_adequate_trials
    ):
        return "known"
    return None


def _needs_oral_antidepressant(rule: ComputedRule, given: Inputs) -> _Applies:
    if given.route != rule.route or given.indication != rule.indication:
        return None
    if given.oral_antidepressant is True:
        return None
    # Not recorded is treated as "not known": flag it for review rather than assume it is
    # taken, because the label requires it and a caution only asks a clinician to confirm.
    return "unknown" if given.oral_antidepressant is None else "known"


_RULES: dict[str, Callable[[ComputedRule, Inputs], _Applies]] = {
    "age_below": _age_below,
    "age_at_or_above": _age_at_or_above,
    "bp_at_or_above": _bp_at_or_above,
    "too_few_trials": _too_few_trials,
    "needs_oral_antidepressant": _needs_oral_antidepressant,
}


def _computed_findings(vocab: Vocabulary, given: Inputs) -> dict[str, str]:
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
    given = parse_inputs(
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
    result = _findings(vocab, given, applies)
    return ScreeningResult(decision=_decide(result), findings=result)


def _findings(vocab: Vocabulary, given: Inputs, applies: dict[str, str]) -> tuple[Finding, ...]:
    """The findings that apply, worded for this patient, most serious first."""
    reading_mmhg = (
        None
        if given.systolic_mmhg is None or given.diastolic_mmhg is None
        else f"{given.systolic_mmhg:g}/{given.diastolic_mmhg:g}"
    )
    result = [
        Finding(
            code=code,
            severity=vocab.by_code[code].severity_for(given.route),
            message=vocab.by_code[code].message_for(outcome, reading_mmhg),
            sources=vocab.by_code[code].sources,
        )
        for code, outcome in applies.items()
    ]
    result.sort(key=lambda f: (_SEVERITY_RANK[f.severity], vocab.order[f.code]))
    return tuple(result)
