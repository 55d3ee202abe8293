"""Which readings decide the alerts in force: the short tail of a long session.

:func:`~ketaclinic.charting.safety.evaluate` judges each threshold rule on the newest reading
that measured its fields, and each sustained rule on the run of readings measuring its base
rule's fields, back from the newest one to the first taken at least ``for_minutes`` earlier.
A walk stops early at a reading that does not meet the base rule. So of a two-hour session at
1 Hz (7,200 readings) only a handful can change the alerts in force: the newest reading of
each measurement, and for each sustained rule its run back to the reading that ends the walk
(a few minutes of readings at most, one when the newest does not meet the rule).
:func:`alert_tail` names them; the session page reads that set from the database
(:func:`~ketaclinic.charting.session_record.decisive`) instead of every reading.

Any set of readings holding the tail (and nothing that is not in the session) gives the same
alerts as the whole session: the readings it leaves out are older than anything a rule looks
at. A property test checks ``evaluate(readings) == evaluate(alert_tail(readings))``.

Pure module: no Django import.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from ketaclinic.charting.safety import VitalSignPolicy, VitalSignRule
from ketaclinic.charting.vitals import VitalReading


@dataclass(frozen=True)
class SustainedReach:
    """How far back a sustained rule may look: over the readings measuring its ``base``
    rule's fields, from the newest back while they meet it, to one ``minutes`` earlier."""

    base: VitalSignRule
    minutes: Decimal

    @property
    def fields(self) -> tuple[str, ...]:
        return self.base.fields


def threshold_fields(policy: VitalSignPolicy) -> tuple[str, ...]:
    """Every measurement some threshold rule looks at, in the policy's order."""
    return tuple(dict.fromkeys(field for rule in policy.rules for field in rule.fields))


def sustained_reaches(policy: VitalSignPolicy) -> tuple[SustainedReach, ...]:
    """One reach per base rule, the longest ``for_minutes`` of the sustained rules on it."""
    longest: dict[str, SustainedReach] = {}
    for rule in policy.rules:
        if rule.sustained is None:
            continue
        base, minutes = policy.rule(rule.sustained.of), rule.sustained.for_minutes
        if base.code not in longest or longest[base.code].minutes < minutes:
            longest[base.code] = SustainedReach(base, minutes)
    return tuple(longest.values())


def _newest_measuring(readings: Sequence[VitalReading], fields: Sequence[str]) -> int | None:
    for index in range(len(readings) - 1, -1, -1):
        if readings[index].measures(fields):
            return index
    return None


def _run(readings: Sequence[VitalReading], reach: SustainedReach) -> list[int]:
    """The readings a sustained rule walks: back from the newest measuring its base rule's
    fields to the first that does not meet it or is at least ``reach.minutes`` older."""
    relevant = [i for i, reading in enumerate(readings) if reading.measures(reach.fields)]
    if not relevant:
        return []
    newest = readings[relevant[-1]].minute
    run = []
    for index in reversed(relevant):
        run.append(index)
        reading = readings[index]
        if not reach.base.met_by(reading) or newest - reading.minute >= reach.minutes:
            break
    return run


def alert_tail(readings: Sequence[VitalReading], policy: VitalSignPolicy) -> list[VitalReading]:
    """The readings (oldest first) on which ``policy`` gives the alerts of all ``readings``.

    ``readings`` are oldest first, as :func:`~ketaclinic.charting.safety.evaluate` takes them.
    """
    kept: set[int] = set()
    for field in threshold_fields(policy):
        if (index := _newest_measuring(readings, (field,))) is not None:
            kept.add(index)
    for reach in sustained_reaches(policy):
        kept.update(_run(readings, reach))
    return [readings[index] for index in sorted(kept)]
