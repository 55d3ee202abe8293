"""Dose creep: every escalation over a course, and the total rise, for the plan page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.protocols.dosing import DoseRecord, DosingError, dose_creep

D = Decimal


def test_each_escalation_is_flagged_with_its_rise_and_the_total_rise_is_reported():
    history = [
        DoseRecord(1, D("35.0"), D("0.5")),
        DoseRecord(2, D("42.0"), D("0.6")),
        DoseRecord(3, D("42.0"), D("0.6")),
        DoseRecord(4, D("52.5"), D("0.75")),
    ]
    creep = dose_creep(history)
    assert creep.unit == "mg/kg"
    assert [
        (e.session_number, e.previous_session_number, e.rise_pct) for e in creep.escalations
    ] == [
        (2, 1, D("20.0")),
        (4, 3, D("25.0")),
    ]
    assert creep.total_rise_pct == D("50.0")


def test_with_any_session_missing_mg_per_kg_the_course_is_compared_in_mg():
    creep = dose_creep(
        [
            {"session_number": 1, "dose_mg": 56},
            {"session_number": 2, "dose_mg": 84, "dose_mg_per_kg": None},
        ]
    )
    assert creep.unit == "mg"
    assert creep.escalations[0].rise_pct == D("50.0")
    assert creep.total_rise_pct == D("50.0")


def test_a_weight_change_at_the_same_mg_per_kg_is_not_creep():
    creep = dose_creep([DoseRecord(1, D("35.0"), D("0.5")), DoseRecord(2, D("40.0"), D("0.5"))])
    assert creep.escalations == ()
    assert creep.total_rise_pct == D("0.0")


def test_a_falling_dose_gives_a_negative_total_and_no_escalation():
    creep = dose_creep([DoseRecord(1, D(84)), DoseRecord(2, D(56))])
    assert creep.escalations == ()
    assert creep.total_rise_pct == D("-33.3")


def test_history_is_read_in_session_order_whatever_order_it_comes_in():
    creep = dose_creep([DoseRecord(3, D(84)), DoseRecord(1, D(56)), DoseRecord(2, D(56))])
    assert [e.session_number for e in creep.escalations] == [3]


def test_one_session_or_none_has_no_total():
    assert dose_creep([]).total_rise_pct is None
    assert dose_creep([DoseRecord(1, D(56))]).total_rise_pct is None


@pytest.mark.parametrize(
    ("history", "field"),
    [
        ([DoseRecord(1, D(56)), DoseRecord(1, D(84))], "history"),
        ([{"session_number": 0, "dose_mg": 56}], "history[0].session_number"),
        ([{"session_number": 1, "dose_mg": -5}], "history[0].dose_mg"),
        ([{"session_number": 1}], "history[0].dose_mg"),
        ("56, 84", "history"),
    ],
)
def test_bad_history_is_refused_with_the_entry_named(history, field):
    with pytest.raises(DosingError) as caught:
        dose_creep(history)
    assert caught.value.field == field


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=200), min_size=2, max_size=20))
def test_escalations_are_exactly_the_sessions_above_the_previous_one(doses):
    history = [DoseRecord(number, D(dose)) for number, dose in enumerate(doses, start=1)]
    creep = dose_creep(history)
    expected = [n for n in range(2, len(doses) + 1) if doses[n - 1] > doses[n - 2]]
    assert [e.session_number for e in creep.escalations] == expected
    assert all(e.rise_pct > 0 for e in creep.escalations)
    assert (creep.total_rise_pct > 0) == (doses[-1] > doses[0]) or creep.total_rise_pct == 0
