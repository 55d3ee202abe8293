"""When outcome measures are due during a course: pure Python over plain dates, no Django.

The occasions come from issue #6 (baseline before the first session, before each session,
24 h after the first and the last induction session, weekly during induction, monthly in
maintenance); the windows, the instruments per indication and everything else no source
fixes are data in ``measurement.yaml``, marked [U] there and clinic-editable.

Rules (tested in ``tests/test_measurement_schedule.py``):

* Each occasion gives a window ``[opens_on, due_on]``: answers from ``opens_on`` count; after
  ``due_on`` the measure is overdue.
* Occasions of the same instrument due within ``merge_within_days`` of each other are one
  questionnaire; the more specific occasion is kept (baseline, then the 24 h measures, then
  pre-session, weekly and monthly).
* Weekly (induction) and monthly (maintenance) are "at least" rules: they fill the gaps
  the session-linked measures leave, so a patient seen twice a week is not asked again.
* After an induction-only course (no maintenance planned) a few follow-ups are scheduled,
  so durability can be measured.
* A session's phase is the plan's word for it: ``induction`` is induction; any later phase
  (``optimization``, ``maintenance``) counts as maintenance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml

POLICY_PATH = Path(__file__).resolve().parent / "measurement.yaml"

BASELINE = "baseline"
PRE_SESSION = "pre_session"
AFTER_FIRST = "after_first_induction"
AFTER_LAST = "after_last_induction"
WEEKLY = "weekly_induction"
MONTHLY = "monthly_maintenance"
FOLLOW_UP = "follow_up"
# Most specific first: when two occasions merge, the earlier one in this list is kept.
OCCASIONS = (BASELINE, AFTER_FIRST, AFTER_LAST, PRE_SESSION, WEEKLY, MONTHLY, FOLLOW_UP)
INDUCTION = "induction"


class PolicyError(ValueError):
    """The measurement policy file is malformed; the message names the field."""


@dataclass(frozen=True)
class Occasion:
    code: str
    opens_days: int
    due_days: int
    basis: str
    every_days: int | None = None
    count: int | None = None


@dataclass(frozen=True)
class MeasurementPolicy:
    instruments: Mapping[str, tuple[str, ...]]
    occasions: Mapping[str, Occasion]
    merge_within_days: int
    complete_after_last_session_days: int
    baseline_lookback_days: int
    outcome_after_last_session_days: int
    source: str = ""

    def instruments_for(self, indication: str | None) -> tuple[str, ...]:
        """The instruments collected for an indication; the first is the primary outcome."""
        return self.instruments.get(indication or "", self.instruments["default"])

    def primary_instrument(self, indication: str | None) -> str:
        return self.instruments_for(indication)[0]


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolicyError(f"{where}: expected a whole number, got {value!r}")
    return value


def parse_policy(data: Any) -> MeasurementPolicy:
    """Validate the policy mapping (the parsed YAML)."""
    if not isinstance(data, Mapping):
        raise PolicyError("policy: expected a mapping")
    raw_instruments = data.get("instruments")
    if not isinstance(raw_instruments, Mapping) or "default" not in raw_instruments:
        raise PolicyError("instruments: a mapping with a 'default' list is required")
    instruments = {}
    for indication, codes in raw_instruments.items():
        if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
            raise PolicyError(f"instruments.{indication}: a non-empty list of codes")
        if len(set(codes)) != len(codes):
            raise PolicyError(f"instruments.{indication}: codes repeat")
        instruments[str(indication)] = tuple(codes)
    raw_occasions = data.get("occasions")
    if not isinstance(raw_occasions, Mapping) or set(raw_occasions) != set(OCCASIONS):
        raise PolicyError(f"occasions: exactly {sorted(OCCASIONS)}")
    occasions = {}
    for code in OCCASIONS:
        raw = raw_occasions[code]
        where = f"occasions.{code}"
        unknown = set(raw) - {"anchor", "opens_days", "due_days", "every_days", "count", "basis"}
        if unknown:
            raise PolicyError(f"{where}: unknown keys {sorted(unknown)}")
        occasion = Occasion(
            code=code,
            opens_days=_int(raw.get("opens_days"), f"{where}.opens_days"),
            due_days=_int(raw.get("due_days"), f"{where}.due_days"),
            basis=str(raw.get("basis", "")).strip(),
            every_days=(
                _int(raw["every_days"], f"{where}.every_days") if "every_days" in raw else None
            ),
            count=_int(raw["count"], f"{where}.count") if "count" in raw else None,
        )
        if occasion.opens_days > occasion.due_days:
            raise PolicyError(f"{where}: the window opens after it is due")
        if not occasion.basis:
            raise PolicyError(f"{where}: every occasion names its basis")
        if code in (WEEKLY, MONTHLY, FOLLOW_UP) and not (occasion.every_days or 0) > 0:
            raise PolicyError(f"{where}: every_days must be a positive number of days")
        if code == FOLLOW_UP and (occasion.count is None or occasion.count < 0):
            raise PolicyError(f"{where}: count must be 0 or more")
        occasions[code] = occasion
    policy = MeasurementPolicy(
        instruments=instruments,
        occasions=occasions,
        merge_within_days=_int(data.get("merge_within_days"), "merge_within_days"),
        complete_after_last_session_days=_int(
            data.get("complete_after_last_session_days"), "complete_after_last_session_days"
        ),
        baseline_lookback_days=_int(data.get("baseline_lookback_days"), "baseline_lookback_days"),
        outcome_after_last_session_days=_int(
            data.get("outcome_after_last_session_days"), "outcome_after_last_session_days"
        ),
        source=str(data.get("source", "")),
    )
    if policy.merge_within_days < 0 or policy.baseline_lookback_days < 0:
        raise PolicyError("merge_within_days and baseline_lookback_days cannot be negative")
    return policy


def load_policy(path: Path | str = POLICY_PATH) -> MeasurementPolicy:
    with Path(path).open(encoding="utf-8") as handle:
        return parse_policy(yaml.safe_load(handle))


@cache
def shipped_policy() -> MeasurementPolicy:
    return load_policy()


@dataclass(frozen=True)
class CourseSession:
    """One session of a course: its number, day and phase (from the signed plan)."""

    number: int
    on: date
    phase: str


@dataclass(frozen=True)
class DueMeasure:
    instrument: str
    reason: str
    opens_on: date
    due_on: date
    session_number: int | None = None

    def state_on(self, today: date, *, done: bool = False) -> str:
        """``done``, ``upcoming`` (window not open), ``due`` or ``overdue``."""
        if done:
            return "done"
        if today < self.opens_on:
            return "upcoming"
        return "overdue" if today > self.due_on else "due"


def _window(occasion: Occasion, anchor: date) -> tuple[date, date]:
    return anchor + timedelta(days=occasion.opens_days), anchor + timedelta(days=occasion.due_days)


def _gap_fillers(
    fixed: Sequence[date], start: date, end: date, every_days: int, merge_days: int
) -> list[date]:
    """Anchors so that no more than ``every_days`` pass without a measure from start to end.

    ``fixed`` are the days other occasions already measure; one of them due by the next
    anchor (within the merge distance) resets the clock instead of adding a measure.
    """
    anchors: list[date] = []
    last = start
    while True:
        target = last + timedelta(days=every_days)
        if target > end:
            return anchors
        covering = [d for d in fixed if last < d <= target + timedelta(days=merge_days)]
        if covering:
            last = max(covering)
        else:
            anchors.append(target)
            last = target


def _candidates(sessions: Sequence[CourseSession], policy: MeasurementPolicy):
    """(occasion, anchor day, session number) for one instrument, before merging."""
    ordered = sorted(sessions, key=lambda s: (s.on, s.number))
    first = ordered[0]
    fixed = [(BASELINE, first.on, first.number)]
    fixed += [(PRE_SESSION, session.on, session.number) for session in ordered[1:]]
    induction = [s for s in ordered if s.phase == INDUCTION]
    if induction:
        fixed.append((AFTER_FIRST, induction[0].on, induction[0].number))
        if len(induction) > 1:
            fixed.append((AFTER_LAST, induction[-1].on, induction[-1].number))
    due_days = sorted(
        anchor + timedelta(days=policy.occasions[code].due_days) for code, anchor, _ in fixed
    )
    fillers = []
    maintenance = [s for s in ordered if s.phase != INDUCTION]
    for code, span in ((WEEKLY, induction), (MONTHLY, maintenance)):
        if not span:
            continue
        occasion = policy.occasions[code]
        assert occasion.every_days
        # The clock runs on due days: a filler anchored on day X is due X + due_days.
        for day in _gap_fillers(
            due_days, span[0].on, span[-1].on, occasion.every_days, policy.merge_within_days
        ):
            fillers.append((code, day, None))
    if induction and not maintenance:
        follow_up = policy.occasions[FOLLOW_UP]
        assert follow_up.every_days is not None
        for k in range(1, (follow_up.count or 0) + 1):
            day = induction[-1].on + timedelta(days=k * follow_up.every_days)
            fillers.append((FOLLOW_UP, day, None))
    return fixed + fillers


def measures_due(
    sessions: Sequence[CourseSession],
    instruments: Sequence[str],
    policy: MeasurementPolicy | None = None,
) -> list[DueMeasure]:
    """Every measure due over a course, sorted by due day, merged per the policy.

    Parameters
    ----------
    sessions
        The course's sessions (planned or given); empty gives no measures.
    instruments
        Instrument codes to collect (``policy.instruments_for(indication)``).
    """
    policy = policy or shipped_policy()
    if not sessions:
        return []
    priority = {code: rank for rank, code in enumerate(OCCASIONS)}
    raw = sorted(_candidates(sessions, policy), key=lambda c: (priority[c[0]], c[1]))
    measures: list[DueMeasure] = []
    for instrument in instruments:
        kept: list[DueMeasure] = []
        for reason, anchor, number in raw:
            opens_on, due_on = _window(policy.occasions[reason], anchor)
            if any(abs((m.due_on - due_on).days) <= policy.merge_within_days for m in kept):
                continue
            kept.append(DueMeasure(instrument, reason, opens_on, due_on, number))
        measures.extend(kept)
    return sorted(measures, key=lambda m: (m.due_on, instruments.index(m.instrument), m.reason))
