"""Reading ``schedules.yaml`` entries and ``dosing_policy.yaml`` into their dataclasses."""

from __future__ import annotations

from typing import Any

from .entries import (
    SESSION_PHASES,
    DosingPolicy,
    ScheduleKind,
    SchedulePattern,
    SchedulePhase,
)
from .yaml_reader import StrictReader, decimal_range, int_range, present


def _schedule_phase(reader: StrictReader) -> SchedulePhase:
    result = SchedulePhase(
        name=reader.choice("name", SESSION_PHASES),
        from_week=present(reader.integer("from_week", minimum=1)),
        to_week=reader.integer("to_week", required=False, minimum=1),
        sessions_per_week=present(reader.integer("sessions_per_week", minimum=1)),
        every_weeks=present(reader.integer("every_weeks", minimum=1)),
        every_weeks_if_weekly=reader.integer("every_weeks_if_weekly", required=False, minimum=1),
        sources=reader.sources(),
    )
    if result.to_week is not None and result.to_week < result.from_week:
        raise reader.fail("to_week", "is before from_week")
    reader.done()
    return result


def _check_phases_follow(reader: StrictReader, phases: tuple[SchedulePhase, ...]) -> None:
    expected_week = 1
    for index, phase in enumerate(phases):
        if phase.from_week != expected_week:
            raise reader.fail(f"phases[{index}].from_week", f"expected week {expected_week}")
        if phase.to_week is None:
            if index != len(phases) - 1:
                raise reader.fail(f"phases[{index}].to_week", "only the last phase is open")
            return
        expected_week = phase.to_week + 1


def read_schedule(reader: StrictReader) -> SchedulePattern:
    """One ``schedules.yaml`` entry; its ``kind`` decides which fields it has."""
    kind = ScheduleKind(reader.choice("kind", tuple(ScheduleKind)))
    common: dict[str, Any] = {
        "code": present(reader.text("code")),
        "label": present(reader.text("label")),
        "kind": kind,
        "min_gap_days": present(reader.integer("min_gap_days", minimum=1)),
        "sources": reader.sources(),
        "clinic_editable": reader.flag("clinic_editable", default=False),
    }
    if kind is ScheduleKind.SPREAD:
        result = SchedulePattern(
            **common,
            phase=reader.choice("phase", SESSION_PHASES),
            sessions=reader.integer("sessions", minimum=1),
            max_span_days=reader.integer("max_span_days", minimum=0),
            target_sessions_per_week=reader.integer("target_sessions_per_week", minimum=1),
        )
    elif kind is ScheduleKind.INTERVAL:
        result = SchedulePattern(
            **common,
            phase=reader.choice("phase", SESSION_PHASES),
            interval_weeks=int_range(reader.child("interval_weeks")),
            count=int_range(reader.child("count")),
        )
    else:
        phases = tuple(_schedule_phase(child) for child in reader.children("phases"))
        _check_phases_follow(reader, phases)
        open_ended = phases[-1].to_week is None
        horizon = int_range(reader.child("horizon_weeks", required=open_ended))
        if open_ended and (horizon is None or horizon.default is None):
            raise reader.fail("horizon_weeks", "an open-ended schedule needs a default horizon")
        result = SchedulePattern(**common, phases=phases, horizon_weeks=horizon)
    reader.done()
    return result


def read_dosing_policy(reader: StrictReader) -> DosingPolicy:
    """``dosing_policy.yaml``: input limits and rounding increments."""
    reader.integer("version", minimum=1)
    max_age = present(reader.child("weight_max_age_days"))
    result = DosingPolicy(
        weight_kg=present(decimal_range(reader.child("weight_kg"))),
        weight_max_age_days=present(max_age.integer("value", minimum=1)),
        weight_max_age_sources=max_age.sources(),
        weight_max_age_clinic_editable=max_age.flag("clinic_editable", default=False),
        dose_increment_mg=reader.decimal("dose_increment_mg"),
        rate_increment_mg_per_min=reader.decimal("rate_increment_mg_per_min"),
        rounding_sources=reader.sources("rounding_sources"),
        percent_increment=reader.decimal("percent_increment"),
    )
    max_age.done()
    reader.done()
    return result
