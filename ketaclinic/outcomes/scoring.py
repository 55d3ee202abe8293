"""Scoring of outcome instruments, change from baseline, and course outcomes.

Pure functions over plain data: an :class:`~ketaclinic.outcomes.definitions.Instrument`
(the rules) and lists of integers or dated totals (the answers). No database, no Django.
Every threshold used here comes from the instrument definition, which names its source in
``shared/domain/REFERENCE.md`` §5.

Conventions where the reference is silent (documented once here, tested in
``tests/test_course_outcomes.py`` and ``tests/test_change_response_remission.py``):

* A change from a baseline of 0 has no percentage: ``change_pct`` is None and
  ``response`` is False (there is nothing to fall from). Remission depends only on the
  current score, so it is still reported.
* Course dates are calendar days. A score dated on a session day counts as taken *before*
  that day's session (the usual pre-infusion questionnaire): it can be the baseline for the
  first session, and it does not count the same day's session as given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from ketaclinic.outcomes.definitions import Instrument, ResponseRule, get_instrument


class ScoringError(ValueError):
    """Input that cannot be scored (the API answers 422)."""


class AnswerError(ScoringError):
    """An answer is wrong: too many answers, or a value the item does not offer.

    ``item`` is the 1-based item number the message is about.
    """

    def __init__(self, item: int, message: str) -> None:
        super().__init__(f"item {item}: {message}")
        self.item = item
        self.message = message


@dataclass(frozen=True)
class ScoreResult:
    instrument: str
    total: int
    band: str | None
    flags: tuple[str, ...]
    subscores: dict[str, int] = field(default_factory=dict)
    # Only the PCL-5 gives a provisional diagnosis; None elsewhere.
    provisional_ptsd: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON body of ``POST /api/v1/instruments/{code}/score``."""
        body: dict[str, Any] = {
            "instrument": self.instrument,
            "total": self.total,
            "band": self.band,
            "flags": list(self.flags),
            "subscores": dict(self.subscores),
        }
        if self.provisional_ptsd is not None:
            body["provisional_ptsd"] = self.provisional_ptsd
        return body


@dataclass(frozen=True)
class Incomplete:
    """Answers with gaps: not scored; the web layer stores them as in progress."""

    instrument: str
    missing_items: tuple[int, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument,
            "status": "incomplete",
            "missing_items": list(self.missing_items),
        }


def _resolve(instrument: Instrument | str) -> Instrument:
    return get_instrument(instrument) if isinstance(instrument, str) else instrument


def _check_answers(instrument: Instrument, answers: Sequence[int | None]) -> tuple[int, ...]:
    """Validate every given answer; return the numbers of the items left unanswered."""
    if isinstance(answers, str | bytes) or not isinstance(answers, Sequence):
        raise ScoringError("answers must be a list with one entry per item")
    count = len(instrument.items)
    if len(answers) > count:
        raise AnswerError(
            count + 1, f"{instrument.name} has {count} items; got {len(answers)} answers"
        )
    missing = []
    for item in instrument.items:
        value = answers[item.number - 1] if item.number <= len(answers) else None
        if value is None:
            missing.append(item.number)
        elif isinstance(value, bool) or not isinstance(value, int):
            raise AnswerError(item.number, f"answer must be a whole number, got {value!r}")
        elif value not in item.values:
            allowed = ", ".join(str(v) for v in sorted(item.values))
            raise AnswerError(item.number, f"answer {value} is not one of {allowed}")
    return tuple(missing)


def _domain_scores(
    instrument: Instrument, answers: Sequence[int], combine: Callable[[Iterable[int]], int]
) -> dict[str, int]:
    return {
        domain.code: combine(answers[n - 1] for n in domain.items)
        for domain in instrument.scoring.domains
    }


def _provisional_ptsd(instrument: Instrument, answers: Sequence[int]) -> bool:
    threshold = instrument.scoring.endorsed_at
    assert threshold is not None  # guaranteed by the loader for pcl5 rules
    for cluster in instrument.scoring.domains:
        endorsed = sum(1 for n in cluster.items if answers[n - 1] >= threshold)
        if endorsed < (cluster.min_endorsed or 0):
            return False
    return True


def score(instrument: Instrument | str, answers: Sequence[int | None]) -> ScoreResult | Incomplete:
    """Score one completed questionnaire.

    Parameters
    ----------
    instrument
        The definition, or a shipped instrument's code (``"phq9"``).
    answers
        One value per item in item order; ``None`` (or a short list) marks unanswered items.

    Returns
    -------
    ScoreResult or Incomplete
        :class:`Incomplete` when any item is unanswered: partial answers are never scored.

    Raises
    ------
    AnswerError
        More answers than items, or a value the item does not offer; names the item.
    """
    instrument = _resolve(instrument)
    missing = _check_answers(instrument, answers)
    if missing:
        return Incomplete(instrument=instrument.code, missing_items=missing)
    values: list[int] = [a for a in answers if a is not None]

    rule = instrument.scoring.type
    subscores: dict[str, int] = {}
    provisional_ptsd = None
    if rule == "qids_domains":
        subscores = _domain_scores(instrument, values, max)
        total = sum(subscores.values())
    elif rule == "pcl5":
        subscores = _domain_scores(instrument, values, sum)
        total = sum(values)
        provisional_ptsd = _provisional_ptsd(instrument, values)
    elif rule == "max_item_risk":
        # Risk comes from the most serious answer, not from how many answers were Yes.
        total = max(
            item.option(v).risk or 0 for item, v in zip(instrument.items, values, strict=True)
        )
    else:
        total = sum(values)

    band = instrument.band_for(total)
    flags = tuple(dict.fromkeys(f.code for f in instrument.flags if values[f.item - 1] > f.above))
    return ScoreResult(
        instrument=instrument.code,
        total=total,
        band=band.code if band else None,
        flags=flags,
        subscores=subscores,
        provisional_ptsd=provisional_ptsd,
    )


# --- change from baseline --------------------------------------------------------------


@dataclass(frozen=True)
class ChangeResult:
    instrument: str
    baseline: int
    current: int
    change_pct: float | None
    # None where the instrument defines no response (pain NRS) or no remission (PCL-5).
    response: bool | None
    remission: bool | None
    # Every remission definition by code, e.g. MADRS {"remission_le_10", "remission_le_12"}.
    remission_variants: dict[str, bool] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The JSON body of ``POST /api/v1/outcomes/change``."""
        return {
            "change_pct": self.change_pct,
            "response": self.response,
            "remission": self.remission,
            "remission_variants": dict(self.remission_variants),
        }


def _check_total(instrument: Instrument, total: int, what: str) -> None:
    if isinstance(total, bool) or not isinstance(total, int):
        raise ScoringError(f"{instrument.name} {what} must be a whole number, got {total!r}")
    if not instrument.total_min <= total <= instrument.total_max:
        raise ScoringError(
            f"{what} {total} is outside {instrument.name}'s range "
            f"{instrument.total_min}–{instrument.total_max}"
        )


def _change_pct(baseline: int, current: int) -> float | None:
    if baseline == 0:
        return None
    # Decimal with half-up rounding so -12.25 shows as -12.3, as a clinician would round.
    pct = Decimal(current - baseline) * 100 / Decimal(baseline)
    return float(pct.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _meets_response(rule: ResponseRule, baseline: int, current: int) -> bool:
    fall = baseline - current
    if rule.fall_points is not None:
        return fall >= rule.fall_points
    if baseline == 0:
        return False
    assert rule.fall_pct is not None
    # Integer arithmetic: a fall of exactly 50% is a response, with no float round-off.
    return fall * 100 >= rule.fall_pct * baseline


def change(instrument: Instrument | str, baseline: int, current: int) -> ChangeResult:
    """Percentage change, response and remission between two totals.

    Examples
    --------
    >>> result = change("phq9", 20, 8)
    >>> result.change_pct, result.response, result.remission
    (-60.0, True, False)
    """
    instrument = _resolve(instrument)
    _check_total(instrument, baseline, "baseline")
    _check_total(instrument, current, "current")
    response_rule = instrument.outcome.response
    variants = {rule.code: current <= rule.at_most for rule in instrument.outcome.remission}
    primary = instrument.outcome.remission[0].code if instrument.outcome.remission else None
    return ChangeResult(
        instrument=instrument.code,
        baseline=baseline,
        current=current,
        change_pct=_change_pct(baseline, current),
        response=None
        if response_rule is None
        else _meets_response(response_rule, baseline, current),
        remission=None if primary is None else variants[primary],
        remission_variants=variants,
    )


# --- course outcomes -------------------------------------------------------------------


@dataclass(frozen=True)
class DatedScore:
    on: date
    total: int


@dataclass(frozen=True)
class TimeToResponse:
    days: int
    sessions: int
    score: DatedScore


class Durability(NamedTuple):
    """Days response lasted after induction, and whether relapse was seen (False = censored).

    A plain pair, so a list of them feeds :func:`ketaclinic.analytics.statistics.kaplan_meier`.
    """

    days: int
    event_observed: bool


@dataclass(frozen=True)
class CourseOutcome:
    baseline: DatedScore | None
    current: DatedScore | None
    change: ChangeResult | None
    time_to_response: TimeToResponse | None
    durability: Durability | None


def _chronological(scores: Sequence[DatedScore]) -> list[DatedScore]:
    # sorted() is stable: several scores on one day keep the order they were given in.
    return sorted(scores, key=lambda s: s.on)


def course_baseline(scores: Sequence[DatedScore], sessions: Sequence[date]) -> DatedScore | None:
    """The last score on or before the first session, or None if there is none."""
    if not sessions:
        return None
    first = min(sessions)
    before = [s for s in _chronological(scores) if s.on <= first]
    return before[-1] if before else None


def course_current(scores: Sequence[DatedScore]) -> DatedScore | None:
    """The latest score, or None when there are no scores."""
    ordered = _chronological(scores)
    return ordered[-1] if ordered else None


def time_to_response(
    instrument: Instrument | str, scores: Sequence[DatedScore], sessions: Sequence[date]
) -> TimeToResponse | None:
    """The first score after the course starts that meets the response rule.

    ``days`` counts from the first session; ``sessions`` is how many sessions were given
    before that score's day. None when there is no baseline, no response rule, or no response.
    """
    instrument = _resolve(instrument)
    rule = instrument.outcome.response
    baseline = course_baseline(scores, sessions)
    if rule is None or baseline is None:
        return None
    _check_course_totals(instrument, scores)
    first = min(sessions)
    for scored in _chronological(scores):
        if scored.on > first and _meets_response(rule, baseline.total, scored.total):
            given = sum(1 for session in sessions if session < scored.on)
            return TimeToResponse(days=(scored.on - first).days, sessions=given, score=scored)
    return None


def durability(
    instrument: Instrument | str,
    scores: Sequence[DatedScore],
    sessions: Sequence[date],
    *,
    last_induction_session: date,
) -> Durability | None:
    """How long response lasted after the last induction session.

    The patient must be responding at the end of induction (latest score on or before the
    last induction session); otherwise there is nothing to last and the result is None.
    Relapse is the first later score that no longer meets the response rule, i.e. the
    score rises back above the response line. Without relapse the time is censored at the
    last score seen, still responding (0 days when there is no later score).
    """
    instrument = _resolve(instrument)
    rule = instrument.outcome.response
    baseline = course_baseline(scores, sessions)
    if rule is None or baseline is None:
        return None
    _check_course_totals(instrument, scores)
    ordered = _chronological(scores)
    at_end = [s for s in ordered if s.on <= last_induction_session]
    if not at_end or not _meets_response(rule, baseline.total, at_end[-1].total):
        return None
    after = [s for s in ordered if s.on > last_induction_session]
    for scored in after:
        if not _meets_response(rule, baseline.total, scored.total):
            return Durability((scored.on - last_induction_session).days, True)
    last_seen = after[-1].on if after else last_induction_session
    return Durability((last_seen - last_induction_session).days, False)


def _check_course_totals(instrument: Instrument, scores: Sequence[DatedScore]) -> None:
    for scored in scores:
        _check_total(instrument, scored.total, f"score on {scored.on.isoformat()}")


def course_outcome(
    instrument: Instrument | str,
    scores: Sequence[DatedScore],
    sessions: Sequence[date],
    *,
    last_induction_session: date | None = None,
) -> CourseOutcome:
    """Baseline, current, change, time to response and (given the induction end) durability."""
    instrument = _resolve(instrument)
    _check_course_totals(instrument, scores)
    baseline = course_baseline(scores, sessions)
    current = course_current(scores)
    return CourseOutcome(
        baseline=baseline,
        current=current,
        change=(
            change(instrument, baseline.total, current.total)
            if baseline is not None and current is not None
            else None
        ),
        time_to_response=time_to_response(instrument, scores, sessions),
        durability=(
            durability(instrument, scores, sessions, last_induction_session=last_induction_session)
            if last_induction_session is not None
            else None
        ),
    )
