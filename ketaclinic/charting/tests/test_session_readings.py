"""The session page reads a long session's vital signs without reading them all, and shows the
same: the summary by interval is grouped by the database exactly as the readings fall, and
the readings it decides with give exactly the alerts in force and the checklist's answer that
all of the session's readings give."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketaclinic.charting import checklist_service, policy, safety, session_service
from ketaclinic.charting.flow_sheet import FLOW_INTERVAL_MIN, FLOW_PAGE_ROWS, SUMMARISED, summarise
from ketaclinic.charting.models import RecordStatus, VitalReading
from ketaclinic.charting.session_record import Readings
from ketaclinic.charting.tests.session_makers import open_session, started
from ketaclinic.charting.vitals_service import to_pure

NORMAL = {"heart_rate_bpm": 72, "spo2_pct": 98}


@pytest.fixture
def session(patient_a, prescriber, nurse):
    return started(open_session(patient_a, prescriber, nurse), nurse, prescriber, minutes_ago=130)


def store(session, series) -> None:
    """``series``: (seconds after the start of dosing, values[, struck]) oldest first."""
    VitalReading.objects.bulk_create(
        VitalReading(
            session=session,
            at=session.dose_started_at + dt.timedelta(seconds=seconds),
            source="device",
            status=RecordStatus.ENTERED_IN_ERROR if struck else RecordStatus.FINAL,
            **values,
        )
        for seconds, values, *rest in series
        for struck in [bool(rest and rest[0])]
    )


def alerts_of(session, rows) -> list:
    pure = [to_pure(session, row) for row in session_service.final(rows)]
    return safety.evaluate(pure, policy.in_force())


def every_reading(session) -> list:
    return list(session.vitals.order_by("at", "id"))


def decisive(session) -> list:
    return Readings.read(session, policy.in_force(), None).decisive


def steady(seconds: int, every: int = 1, **changes) -> list:
    return [(s, NORMAL | changes) for s in range(0, seconds, every)]


SCENARIOS = {
    "two steady hours at 1 Hz, a blood pressure every 5 minutes": steady(7200)
    + [(s + 0.5, {"systolic_mmhg": 126, "diastolic_mmhg": 80}) for s in range(0, 7200, 300)],
    "a fast heart for the last 6 minutes": steady(6840) + steady(360, heart_rate_bpm=130),
    "a fast heart for the last 4 minutes": steady(6960) + steady(240, heart_rate_bpm=130),
    "a fast heart for exactly 5 minutes": steady(600)
    + [(600 + s, {"heart_rate_bpm": 130}) for s in range(0, 301, 60)],
    "high pressure 5 minutes apart, the monitor between": [
        *steady(900),
        (900, {"systolic_mmhg": 186, "diastolic_mmhg": 100}),
        *steady(300),
        (1200, {"systolic_mmhg": 190, "diastolic_mmhg": 104}),
    ],
    "high pressure on two readings 7 minutes apart": [
        (0, {"systolic_mmhg": 186, "diastolic_mmhg": 100}),
        (420, {"systolic_mmhg": 188, "diastolic_mmhg": 100}),
    ],
    # An oximeter between, so the flow sheet's first page does not hold the first reading.
    "a fast heart on two readings 7 minutes apart": [
        (0, {"heart_rate_bpm": 130}),
        *[(s, {"spo2_pct": 97}) for s in range(5, 420, 5)],
        (420, {"heart_rate_bpm": 134}),
    ],
    "a fast heart on readings 4 minutes 59.5 and 5 minutes 0.5 apart": [
        (0, {"heart_rate_bpm": 130}),
        (0.5, {"heart_rate_bpm": 130}),
        *[(s, {"spo2_pct": 97}) for s in range(5, 300, 5)],
        (300, {"heart_rate_bpm": 134}),
    ],
    "high pressure broken by a lower one": [
        (0, {"systolic_mmhg": 186, "diastolic_mmhg": 100}),
        (120, {"systolic_mmhg": 150, "diastolic_mmhg": 90}),
        (360, {"systolic_mmhg": 186, "diastolic_mmhg": 100}),
    ],
    "a low saturation struck out as an error": [
        *steady(600),
        (601, {"spo2_pct": 85}, True),
        (602, {"heart_rate_bpm": 70}),
    ],
    "one temperature long ago": [(0, {"temperature_c": 37}), *steady(3600)],
}


@pytest.mark.parametrize("series", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_the_decisive_readings_give_the_alerts_of_all_readings(session, series):
    store(session, sorted(series, key=lambda item: item[0]))

    assert alerts_of(session, decisive(session)) == alerts_of(session, every_reading(session))


def test_a_steady_two_hours_reads_a_handful_of_rows(session):
    store(session, SCENARIOS["two steady hours at 1 Hz, a blood pressure every 5 minutes"])

    assert len(decisive(session)) < 60, "the newest of each measurement and the BP checks"


gaps = st.sampled_from([0, 0.3, 1, 30, 59.7, 60, 150, 299.4, 299.9, 300, 301, 600])
values = st.fixed_dictionaries(
    {},
    optional={
        "heart_rate_bpm": st.sampled_from([72, 121, 130, 45]),
        "spo2_pct": st.sampled_from([98, 91, 85]),
        "systolic_mmhg": st.sampled_from([126, 181, 205]),
        "resp_rate_per_min": st.sampled_from([14, 6]),
        "temperature_c": st.just(37),
    },
).filter(bool)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(gaps, values, st.booleans()), max_size=40))
def test_any_session_decides_with_the_alerts_of_all_its_readings(session, steps):
    session.vitals.all().delete()
    elapsed, series = 0.0, []
    for gap, measured, struck in steps:
        elapsed += gap
        if "systolic_mmhg" in measured:
            measured = measured | {"diastolic_mmhg": 90}
        series.append((elapsed, measured, struck and len(series) % 3 == 0))
    # Temperatures (no rule looks at them) fill the flow sheet's first page, so what decides
    # the alerts must come from the decisive readings alone.
    filler = [(elapsed + 1 + n, {"temperature_c": 37}) for n in range(FLOW_PAGE_ROWS)]
    store(session, series + filler)

    assert alerts_of(session, decisive(session)) == alerts_of(session, every_reading(session))


def test_the_open_checklist_answers_from_the_decisive_readings(patient_b, prescriber, nurse):
    session = open_session(patient_b, prescriber, nurse, opened_minutes_ago=40)
    start = session.opened_at
    VitalReading.objects.bulk_create(
        VitalReading(session=session, at=start + dt.timedelta(seconds=s), source="device", **NORMAL)
        for s in range(0, 1800)
    )
    VitalReading.objects.create(
        session=session,
        at=start + dt.timedelta(minutes=3),
        source="device",
        systolic_mmhg=205,
        diastolic_mmhg=100,
    )

    def vitals_item(readings):
        states = checklist_service.checklist_states(session, readings=readings)
        return next(s for s in states if s.code == "pre_treatment_vitals")

    shown, everything = vitals_item(decisive(session)), vitals_item(every_reading(session))
    assert (shown.state, shown.detail) == (everything.state, everything.detail)
    assert "205" in everything.detail


def reference_intervals(session) -> list[tuple]:
    """The summary as the page computed it in Python from every reading (before issue #15)."""
    width = dt.timedelta(minutes=FLOW_INTERVAL_MIN)
    found: dict[int, list] = {}
    for row in session_service.final(every_reading(session)):
        found.setdefault((row.at - session.opened_at) // width, []).append(row)
    summary = []
    for index in sorted(found, reverse=True):
        rows = found[index]
        spans = {}
        for name in SUMMARISED:
            measured = [getattr(r, name) for r in rows if getattr(r, name) is not None]
            spans[name] = (min(measured), max(measured)) if measured else None
        summary.append((session.opened_at + index * width, len(rows), spans))
    return summary


def shown_intervals(session) -> list[tuple]:
    return [
        (
            i.start,
            i.count,
            {n: (i.lows[n], i.highs[n]) if n in i.lows else None for n in SUMMARISED},
        )
        for i in summarise(session).intervals
    ]


def test_the_database_groups_readings_by_interval_to_the_microsecond(session):
    opened, quarter = session.opened_at, dt.timedelta(minutes=FLOW_INTERVAL_MIN)
    micro = dt.timedelta(microseconds=1)
    moments = [opened, opened + quarter - micro, opened + quarter, opened + quarter + micro]
    moments += [opened + 3 * quarter, opened + 3 * quarter - micro, opened + 5 * quarter]
    moments += [opened - micro, opened - quarter]  # before opening: rounded down, as before
    moments += [opened.replace(microsecond=0) + 2 * quarter]  # stored without a fraction
    VitalReading.objects.bulk_create(
        VitalReading(session=session, at=at, source="device", heart_rate_bpm=60 + n)
        for n, at in enumerate(moments)
    )
    store(session, [(10, {"systolic_mmhg": 140, "diastolic_mmhg": 85}, True)])

    assert shown_intervals(session) == reference_intervals(session)


def test_the_summary_counts_struck_readings_in_the_total_but_not_the_intervals(session):
    before = session.vitals.count()
    store(session, [*steady(120), (121, {"spo2_pct": 80}, True)])

    summary = summarise(session)

    assert summary.total == before + 121
    assert summary.struck == 1
    assert sum(i.count for i in summary.intervals) == before + 120
    assert summary.newest_id == session.vitals.order_by("-pk").first().pk
