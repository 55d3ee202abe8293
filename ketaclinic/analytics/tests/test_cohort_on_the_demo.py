"""The cohort pipeline on the demo clinic agrees, course by course, with the pure functions.

``build_cohort`` computes every column for all courses at once, in numpy. Here each course
of the demo (the 40 detailed patients and a bulk cohort) is read on its own through the
ORM, its dates taken in the clinic's zone, and its row recomputed with
``outcomes/scoring.py``: the two must agree on every column, whatever the pipeline's steps.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from ketaclinic.analytics.cohort import GIVEN_EXCLUDED, build_cohort
from ketaclinic.charting.models import TreatmentSession
from ketaclinic.demo import cohort as demo_cohort
from ketaclinic.outcomes import scoring, services
from ketaclinic.outcomes.models import Response, ResponseStatus
from ketaclinic.outcomes.schedule import shipped_policy
from ketaclinic.plans.models import TreatmentPlan

OUTCOME_COLUMNS = (
    "instrument",
    "baseline",
    "baseline_date",
    "current",
    "current_date",
    "change_pct",
    "response",
    "remission",
    "time_to_response_days",
    "time_to_response_sessions",
    "durability_days",
    "relapsed",
    "sessions",
    "complete_measurement",
)


@pytest.fixture
def demo(db):
    call_command("demo", "--quiet-logins", "--patients", "40")
    demo_cohort.load_cohort(150)


def sessions_given(plan) -> list[tuple[dt.date, int]]:
    """(clinic-local day, session number) of each session given in the course."""
    given = (
        TreatmentSession.objects.filter(plan=plan, dose_started_at__isnull=False)
        .exclude(status__in=GIVEN_EXCLUDED)
        .values_list("dose_started_at", "session_number")
    )
    return sorted((timezone.localdate(at), number or 0) for at, number in given)


def scores_in_window(plan, code, first: dt.date, window_end) -> list[scoring.DatedScore]:
    lookback = dt.timedelta(days=shipped_policy().baseline_lookback_days)
    answered = Response.objects.filter(
        patient_id=plan.patient_id, instrument_id=code, status=ResponseStatus.COMPLETED
    ).order_by("submitted_at", "id")
    dated = [scoring.DatedScore(timezone.localdate(r.submitted_at), r.total) for r in answered]
    return [
        s for s in dated if first - lookback <= s.on and (window_end is None or s.on < window_end)
    ]


def reference_row(plan, window_end) -> dict:
    """The course's outcome columns, from its own records and the pure functions."""
    policy = shipped_policy()
    code = policy.primary_instrument(plan.indication)
    sessions = sessions_given(plan)
    empty = dict.fromkeys(OUTCOME_COLUMNS, None) | {
        "instrument": "",
        "sessions": len(sessions),
        "complete_measurement": False,
    }
    if code not in services.usable_definitions():
        return empty
    empty["instrument"] = code
    if not sessions:
        return empty
    days = [day for day, _ in sessions]
    window = scores_in_window(plan, code, min(days), window_end)
    until = max(days) + dt.timedelta(days=policy.outcome_after_last_session_days)
    baseline = scoring.course_baseline(window, days)
    current = scoring.course_current([s for s in window if s.on <= until])
    evaluable = baseline is not None and current is not None and current.on > min(days)
    change = scoring.change(code, baseline.total, current.total) if evaluable else None
    ttr = scoring.time_to_response(code, window, days)
    induction = [day for day, n in sessions if 0 < n <= (plan.induction_sessions or 0)]
    durable = (
        scoring.durability(code, window, days, last_induction_session=max(induction))
        if induction
        else None
    )
    complete_by = max(days) + dt.timedelta(days=policy.complete_after_last_session_days)
    return empty | {
        "baseline": baseline.total if baseline else None,
        "baseline_date": baseline.on if baseline else None,
        "current": current.total if current else None,
        "current_date": current.on if current else None,
        "change_pct": change.change_pct if change else None,
        "response": change.response if change else None,
        "remission": change.remission if change else None,
        "time_to_response_days": ttr.days if ttr else None,
        "time_to_response_sessions": ttr.sessions if ttr else None,
        "durability_days": durable.days if durable else None,
        "relapsed": durable.event_observed if durable else None,
        "complete_measurement": baseline is not None
        and any(max(days) < s.on <= complete_by for s in window),
    }


def next_course_starts() -> dict[int, dt.date | None]:
    """Each signed course's window end: the start date of the patient's next course."""
    courses = TreatmentPlan.objects.filter(
        status__in=("active", "completed", "stopped"), signed_at__isnull=False
    ).order_by("patient_id", "start_date", "id")
    ends: dict[int, dt.date | None] = {}
    previous = None
    for plan in courses:
        ends[plan.pk] = None
        if previous is not None and previous.patient_id == plan.patient_id:
            ends[previous.pk] = plan.start_date
        previous = plan
    return ends


def test_every_demo_course_matches_the_pure_functions(demo):
    cohort = build_cohort()
    ends = next_course_starts()
    plans = TreatmentPlan.objects.in_bulk(list(ends))

    rows = list(cohort.rows())

    assert sorted(row["plan_id"] for row in rows) == sorted(ends)
    assert sum(row["response"] is not None for row in rows) > 50
    assert sum(row["relapsed"] is True for row in rows) > 5
    for row in rows:
        plan = plans[row["plan_id"]]
        got = {column: row[column] for column in OUTCOME_COLUMNS}
        assert got == reference_row(plan, ends[plan.pk]), plan.pk
