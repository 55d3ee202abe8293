"""``manage.py simulate_monitor``: realistic readings posted through the real API of a live
server, in batches with idempotency keys; a batch whose answer is lost is retried with the
same key and stored once; a hypertensive excursion raises the policy's BP alerts."""

from __future__ import annotations

import io
import statistics
import urllib.request

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ketaclinic.charting.management.commands import simulate_monitor
from ketaclinic.charting.management.commands.simulate_monitor import rise, simulated_readings
from ketaclinic.charting.models import IngestionRequest, MonitorDevice, SafetyAlert, VitalReading
from ketaclinic.charting.tests.floor import make_chairs, make_session, monitor_in

# ---------------------------------------------------------------- the physiology (pure)


def test_blood_pressure_rises_to_a_peak_at_forty_minutes_and_returns():
    assert rise(0) == 0 == rise(90)
    assert rise(40) == 1
    assert max(range(0, 91), key=rise) == 40


def test_the_mean_rise_at_the_peak_is_about_sixteen_over_eleven():
    def bp_at(minute, seed):
        readings = dict(simulated_readings(minutes=60, interval_s=300, seed=seed))
        return readings[minute]["systolic_mmhg"], readings[minute]["diastolic_mmhg"]

    seeds = range(200)
    systolic_rise = statistics.mean(bp_at(40, s)[0] - bp_at(0, s)[0] for s in seeds)
    diastolic_rise = statistics.mean(bp_at(40, s)[1] - bp_at(0, s)[1] for s in seeds)

    assert systolic_rise == pytest.approx(16, abs=1.5)
    assert diastolic_rise == pytest.approx(11, abs=1.5)


def test_readings_stay_in_the_normal_ranges_with_cuff_readings_every_five_minutes():
    readings = simulated_readings(minutes=120, interval_s=60, seed=3)

    assert len(readings) == 121
    assert {v["spo2_pct"] for _, v in readings} <= set(range(96, 100))
    assert {v["resp_rate_per_min"] for _, v in readings} <= set(range(12, 19))
    cuff = [minute for minute, v in readings if "systolic_mmhg" in v]
    assert cuff == [float(m) for m in range(0, 121, 5)]
    assert all(
        v["diastolic_mmhg"] < v["systolic_mmhg"] for _, v in readings if "systolic_mmhg" in v
    )


def test_a_hypertensive_excursion_is_high_three_times_five_minutes_apart():
    readings = dict(simulated_readings(minutes=60, interval_s=60, seed=5, hypertensive_at=22))

    for minute in (22, 27, 32):
        values = readings[minute]
        assert values["systolic_mmhg"] >= 180 or values["diastolic_mmhg"] >= 110


# ---------------------------------------------------------------- through a live server


@pytest.fixture
def running(prescriber, nurse, patient_a):
    (chair,) = make_chairs(1)
    return make_session(
        patient=patient_a,
        prescriber=prescriber,
        nurse=nurse,
        chair=chair,
        opened_minutes_ago=90,
        dose_started_minutes_ago=60,
    )


def simulate(session, live_server, *args) -> str:
    out = io.StringIO()
    call_command(
        "simulate_monitor",
        str(session.pk),
        "--url",
        live_server.url,
        "--seed",
        "11",
        *args,
        stdout=out,
        stderr=io.StringIO(),
    )
    return out.getvalue()


def test_it_registers_a_monitor_and_posts_the_run_in_batches(running, live_server):
    output = simulate(running, live_server, "--minutes", "30", "--interval", "60")

    device = MonitorDevice.objects.get()
    assert device.chair_id == running.chair_id
    rows = VitalReading.objects.filter(session=running)
    assert rows.count() == 31
    assert set(rows.values_list("device", flat=True)) == {device.pk}
    assert IngestionRequest.objects.filter(device=device).count() == 4  # 10 + 10 + 10 + 1
    assert "done: 31 readings stored, 0 rejected" in output


def test_a_hypertensive_excursion_raises_the_bp_alerts(running, live_server):
    output = simulate(
        running, live_server, "--minutes", "40", "--interval", "60", "--hypertensive-at", "20"
    )

    codes = list(SafetyAlert.objects.filter(session=running).values_list("code", flat=True))
    assert "bp_high" in codes
    assert "bp_high_sustained" in codes
    assert "bp_high_sustained (critical)" in output


def test_it_uses_a_given_token(running, live_server):
    _, token = monitor_in(running.chair, "Ward monitor")

    simulate(running, live_server, "--token", token, "--minutes", "5", "--interval", "60")

    assert MonitorDevice.objects.count() == 1
    assert VitalReading.objects.filter(session=running).count() == 6


def test_a_lost_answer_is_retried_with_the_same_key_and_stored_once(
    running, live_server, monkeypatch
):
    real_urlopen = urllib.request.urlopen
    sent: list[str] = []

    def flaky(request, timeout=None):
        sent.append(request.headers["Idempotency-key"])
        response = real_urlopen(request, timeout=timeout)
        if len(sent) == 1:  # the server stored it, but the answer never arrives
            response.close()
            raise ConnectionResetError("connection reset by peer")
        return response

    monkeypatch.setattr(simulate_monitor.urllib.request, "urlopen", flaky)
    monkeypatch.setattr(simulate_monitor.time, "sleep", lambda seconds: None)

    output = simulate(running, live_server, "--minutes", "9", "--interval", "60")

    assert sent[0] == sent[1]
    assert VitalReading.objects.filter(session=running).count() == 10
    assert "done: 10 readings stored" in output


def test_it_gives_up_after_its_retries(running, live_server, monkeypatch):
    def down(request, timeout=None):
        raise ConnectionRefusedError("refused")

    monkeypatch.setattr(simulate_monitor.urllib.request, "urlopen", down)
    monkeypatch.setattr(simulate_monitor.time, "sleep", lambda seconds: None)

    with pytest.raises(CommandError, match="gave up"):
        simulate(running, live_server, "--minutes", "5", "--retries", "2")


def test_a_session_without_a_chair_needs_a_token(prescriber, nurse, patient_a, live_server):
    session = make_session(patient=patient_a, prescriber=prescriber, nurse=nurse, chair=None)

    with pytest.raises(CommandError, match="no chair"):
        simulate(session, live_server, "--minutes", "5")
