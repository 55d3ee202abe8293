"""The alerts in force are decided by a short tail of the session: the newest reading of each
measurement and each sustained rule's run back to the reading that ends it (one below the
threshold, or one taken its window earlier). Evaluating that tail gives exactly the alerts of
the whole session, however long it ran."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.charting import safety
from ketaclinic.charting.alert_window import (
    alert_tail,
    sustained_reaches,
    threshold_fields,
)
from ketaclinic.charting.vitals import VitalReading

POLICY = safety.DEFAULT_POLICY

#: Values around the policy's thresholds, inside the plausibility limits (the diastolic
#: always below the systolic).
VALUES = {
    "systolic_mmhg": st.sampled_from([130, 179, 180, 185, 199, 200, 210]),
    "heart_rate_bpm": st.sampled_from([45, 50, 70, 120, 121, 130]),
    "spo2_pct": st.sampled_from([85, 88, 91, 92, 97]),
    "resp_rate_per_min": st.sampled_from([6, 8, 14]),
    "temperature_c": st.sampled_from([Decimal("36.6"), Decimal("38.2")]),
}


@st.composite
def reading_values(draw) -> dict:
    measured = draw(st.sets(st.sampled_from(sorted(VALUES)), min_size=1))
    values = {name: draw(VALUES[name]) for name in measured}
    if "systolic_mmhg" in values:
        values["diastolic_mmhg"] = draw(st.sampled_from([70, 109, 110, 119, 120]))
    return values


@st.composite
def sessions(draw) -> list[VitalReading]:
    """Readings oldest first, some at the same minute, gaps from none to several minutes."""
    steps = draw(
        st.lists(st.sampled_from(["0", "0.01", "0.5", "1", "2.5", "4.99", "5"]), max_size=60)
    )
    minute, readings = Decimal(0), []
    for step in steps:
        minute += Decimal(step)
        readings.append(VitalReading(minute=minute, **draw(reading_values())))
    return readings


@given(sessions())
def test_the_tail_gives_the_alerts_of_the_whole_session(readings):
    tail = alert_tail(readings, POLICY)

    assert safety.evaluate(tail, POLICY) == safety.evaluate(readings, POLICY)


@given(sessions(), st.data())
def test_anything_holding_the_tail_gives_the_same_alerts(readings, data):
    tail = {id(reading) for reading in alert_tail(readings, POLICY)}
    extra = data.draw(st.sets(st.sampled_from(range(len(readings))) if readings else st.nothing()))
    chosen = [r for i, r in enumerate(readings) if id(r) in tail or i in extra]

    assert safety.evaluate(chosen, POLICY) == safety.evaluate(readings, POLICY)


def test_a_long_steady_session_keeps_the_newest_of_each_measurement():
    every = Decimal("0.25")  # a reading every 15 seconds, 7,200 of them
    readings = [VitalReading(minute=n * every, heart_rate_bpm=72, spo2_pct=98) for n in range(7200)]
    readings[0] = VitalReading(minute=0, systolic_mmhg=124, diastolic_mmhg=80, temperature_c=37)

    assert alert_tail(readings, POLICY) == [readings[0], readings[-1]]


def test_a_fast_heart_keeps_its_run_back_to_the_reading_that_ends_it():
    every = Decimal("0.25")
    readings = [
        VitalReading(minute=n * every, heart_rate_bpm=72 if n < 7000 else 130) for n in range(7200)
    ]

    tail = alert_tail(readings, POLICY)

    assert len(tail) == 5 * 4 + 1, "5 minutes of readings and the one 5 minutes before"
    assert {a.code for a in safety.evaluate(tail, POLICY)} == {"tachycardia_sustained"}


def test_the_policy_names_its_measurements_and_its_longest_sustained_windows():
    assert set(threshold_fields(POLICY)) == {
        "systolic_mmhg",
        "diastolic_mmhg",
        "heart_rate_bpm",
        "spo2_pct",
        "resp_rate_per_min",
    }
    reaches = {(reach.base.code, reach.minutes) for reach in sustained_reaches(POLICY)}
    assert reaches == {("bp_high", Decimal(5)), ("tachycardia", Decimal(5))}
