"""Which readings decide the alerts in force: the short tail of a long session.

:func:`~ketaclinic.charting.safety.evaluate` judges each threshold rule on the newest reading
that measured its fields, and each sustained rule on the run of readings measuring its base
rule's fields, back from the newest one to the first taken at least ``for_minutes`` earlier.
So of a two-hour session at 1 Hz (7,200 readings) only a few hundred can change the alerts in
force: the newest reading of each measurement, and for each sustained rule its run back to
that first reading. :func:`alert_tail` names them; the session page reads the same set from the
database (``session_record.decisive_readings``) instead of every reading.

Any set of readings holding the tail (and nothing that is not in the session) gives the same
alerts as the whole session: the readings it leaves out are older than anything a rule looks
at. A property test checks ``evaluate(readings) == evaluate(alert_tail(readings))``.

Pure module: no Django import.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from ketaclinic.charting.safety import VitalSignPolicy
from ketaclinic.charting.vitals import VitalReading


@dataclass(frozen=True)
class SustainedReach:
    """How far back a sustained rule may look: over readings measuring any of ``fields``,
    from the newest of them back to one taken at least ``minutes`` earlier."""

    fields: tuple[str, ...]
    minutes: Decimal


def threshold_fields(policy: VitalSignPolicy) -> tuple[str, ...]:
    """Every measurement some threshold rule looks at, in the policy's order."""
    return tuple(dict.fromkeys(field for rule in policy.rules for field in rule.fields))


def sustained_reaches(policy: VitalSignPolicy) -> tuple[SustainedReach, ...]:
    """One reach per set of base fields, the longest ``for_minutes`` of the rules sharing it."""
    longest: dict[tuple[str, ...], Decimal] = {}
    for rule in policy.rules:
        if rule.sustained is None:
            continue
        fields = policy.rule(rule.sustained.of).fields
        longest[fields] = max(
            longest.get(fields, rule.sustained.for_minutes), rule.sustained.for_minutes
        )
    return tuple(SustainedReach(fields, minutes) for fields, minutes in longest.items())


def _newest_measuring(readings: Sequence[VitalReading], fields: Sequence[str]) -> int | None:
    for index in range(len(readings) - 1, -1, -1):
        if readings[index].measures(fields):
            return index
    return None


def _run(readings: Sequence[VitalReading], reach: SustainedReach) -> list[int]:
    """The readings a sustained rule can walk: back from the newest measuring its fields to
    the first one at least ``reach.minutes`` older (all of them when none is)."""
    relevant = [i for i, reading in enumerate(readings) if reading.measures(reach.fields)]
    if not relevant:
        return []
    newest = readings[relevant[-1]].minute
    run = []
    for index in reversed(relevant):
        run.append(index)
        if newest - readings[index].minute >= reach.minutes:
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
