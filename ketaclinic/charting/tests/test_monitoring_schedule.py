"""Expected vital-sign checks per route, and which are done, due or overdue.

IV: BP every 10 min during and every 15 min for 1 h after the infusion [Emory 2018; NIMH].
Esketamine: BP before dosing, ~40 min after, before leaving [label].
The tolerance window (2 min by default) is an editable clinic value [U].
"""

from __future__ import annotations

import copy

import pytest
import yaml

from ketaclinic.charting.data_files import PolicyError
from ketaclinic.charting.monitoring import (
    DEFAULT_MONITORING,
    MonitoringPolicy,
    monitoring_checks,
)
from ketaclinic.charting.vitals import DATA_DIR, VitalReading


def bp(minute):
    return VitalReading(minute=minute, systolic_mmhg=130, diastolic_mmhg=80)


def schedule(checks):
    return [(c.code, c.due_minute, c.status) for c in checks]


def test_a_40_minute_infusion_expects_bp_every_10_min_then_every_15_min_for_an_hour():
    checks = monitoring_checks("iv", dose_start_minute=0, dose_end_minute=40, now_minute=0)

    assert [(c.code, c.due_minute) for c in checks] == [
        ("bp_during_infusion", 0),
        ("bp_during_infusion", 10),
        ("bp_during_infusion", 20),
        ("bp_during_infusion", 30),
        ("bp_after_infusion", 40),
        ("bp_after_infusion", 55),
        ("bp_after_infusion", 70),
        ("bp_after_infusion", 85),
        ("bp_after_infusion", 100),
    ]


def test_every_check_is_done_when_a_bp_was_taken_on_time():
    readings = [bp(m) for m in (0, 10, 20, 30, 40, 55, 70, 85, 100)]

    checks = monitoring_checks(
        "iv", dose_start_minute=0, dose_end_minute=40, now_minute=101, readings=readings
    )

    assert {c.status for c in checks} == {"done"}


@pytest.mark.parametrize(
    ("taken", "status"),
    [(7, "overdue"), (8, "done"), (12, "done"), (13, "overdue")],
    ids=["3 min early", "2 min early", "2 min late", "3 min late"],
)
def test_a_reading_counts_within_the_tolerance_window(taken, status):
    checks = monitoring_checks(
        "iv", dose_start_minute=0, dose_end_minute=20, now_minute=14, readings=[bp(taken)]
    )

    assert checks[1].due_minute == 10
    assert checks[1].status == status


def test_a_check_is_due_while_its_window_is_open_and_overdue_after():
    def status_at(now):
        checks = monitoring_checks("iv", dose_start_minute=0, dose_end_minute=40, now_minute=now)
        return checks[1].status

    assert [status_at(now) for now in (7, 8, 12, 13)] == ["upcoming", "due", "due", "overdue"]


def test_a_reading_without_a_blood_pressure_does_not_satisfy_a_bp_check():
    readings = [VitalReading(minute=10, spo2_pct=98), VitalReading(minute=10, systolic_mmhg=130)]

    checks = monitoring_checks(
        "iv", dose_start_minute=0, dose_end_minute=20, now_minute=15, readings=readings
    )

    assert checks[1].status == "overdue"


def test_while_the_infusion_runs_the_next_check_is_listed_and_after_checks_wait_for_its_end():
    checks = monitoring_checks("iv", dose_start_minute=0, now_minute=21, readings=[bp(0), bp(10)])

    assert schedule(checks) == [
        ("bp_during_infusion", 0, "done"),
        ("bp_during_infusion", 10, "done"),
        ("bp_during_infusion", 20, "due"),
        ("bp_during_infusion", 30, "upcoming"),
        ("bp_after_infusion", None, "upcoming"),
    ]


def test_an_early_stop_moves_the_after_infusion_checks():
    checks = monitoring_checks("iv", dose_start_minute=5, dose_end_minute=27, now_minute=27)

    assert [c.due_minute for c in checks if c.code == "bp_after_infusion"] == [27, 42, 57, 72, 87]
    assert [c.due_minute for c in checks if c.code == "bp_during_infusion"] == [5, 15, 25]


def test_esketamine_expects_bp_before_dosing_at_40_min_and_before_leaving():
    checks = monitoring_checks(
        "esketamine",
        dose_start_minute=10,
        leaving_minute=130,
        now_minute=131,
        readings=[bp(2), bp(51), bp(129)],
    )

    assert [(c.code, c.due_minute, c.status, c.reading_minute) for c in checks] == [
        ("bp_before_dosing", 10, "done", 2),
        ("bp_40_min_after_dosing", 50, "done", 51),
        ("bp_before_leaving", 130, "done", 129),
    ]


def test_a_bp_after_the_first_device_does_not_count_as_before_dosing():
    checks = monitoring_checks("esketamine", dose_start_minute=10, now_minute=20, readings=[bp(11)])

    assert schedule(checks)[0] == ("bp_before_dosing", 10, "overdue")


def test_the_bp_before_leaving_waits_for_a_leaving_time():
    checks = monitoring_checks("esketamine", dose_start_minute=10, now_minute=20)

    assert schedule(checks)[-1] == ("bp_before_leaving", None, "upcoming")


def test_a_route_without_a_schedule_in_the_reference_is_refused():
    with pytest.raises(PolicyError, match="no monitoring schedule for route 'im'"):
        monitoring_checks("im", dose_start_minute=0, now_minute=0)


def test_the_tolerance_is_an_editable_unverified_value():
    assert DEFAULT_MONITORING.tolerance_minutes == 2
    assert "no guideline fixes it" in DEFAULT_MONITORING.tolerance_basis
    assert "editable" in DEFAULT_MONITORING.tolerance_basis


def shipped():
    with (DATA_DIR / "monitoring_schedules.yaml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_one_reading_satisfies_only_one_check_when_windows_overlap():
    wide = shipped() | {"tolerance_minutes": 5}
    policy = MonitoringPolicy.from_mapping(wide)

    checks = monitoring_checks(
        "iv",
        dose_start_minute=0,
        dose_end_minute=20,
        now_minute=16,
        readings=[bp(5)],
        policy=policy,
    )

    assert [c.status for c in checks[:2]] == ["done", "overdue"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m["schedules"]["iv"]["checks"][0].update(anchor="lunch"), "anchor"),
        (lambda m: m["schedules"]["iv"]["checks"][0].update(every_minutes=0), "every_minutes"),
        (lambda m: m["schedules"]["iv"]["checks"][0].pop("until"), "until"),
        (lambda m: m["schedules"]["iv"]["checks"][0].update(requires=["mood"]), "requires"),
        (lambda m: m.update(tolerance_minutes=-1), "negative"),
    ],
    ids=["unknown anchor", "no interval", "no end", "unknown field", "negative tolerance"],
)
def test_a_broken_schedule_is_refused(edit, message):
    broken = copy.deepcopy(shipped())
    edit(broken)

    with pytest.raises(PolicyError, match=message):
        MonitoringPolicy.from_mapping(broken)
