"""The dose delivered is computed from the infusion record, never typed.

Hand-computed totals: rate (mg/min) x running minutes, summed over segments.
0.5 mg/kg for 70 kg over 40 min is 35 mg at 0.875 mg/min (REFERENCE.md section 1).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from ketaclinic.charting.administration import (
    AdministrationError,
    AdministrationRecord,
    Bolus,
    InfusionEvent,
    delivered,
)


def start(minute, rate):
    return InfusionEvent(minute, "start", Decimal(rate))


def change(minute, rate):
    return InfusionEvent(minute, "rate_change", Decimal(rate))


def pause(minute):
    return InfusionEvent(minute, "pause")


def resume(minute, rate=None):
    return InfusionEvent(minute, "resume", None if rate is None else Decimal(rate))


def stop(minute):
    return InfusionEvent(minute, "stop")


def total(*events, **kwargs):
    return delivered(AdministrationRecord(infusion=tuple(events)), **kwargs)


def test_a_full_40_minute_infusion_at_0_875_mg_per_min_delivers_35_mg():
    result = total(start(0, "0.875"), stop(40))

    assert result.total_mg == Decimal("35.00")
    assert result.infusion_running_minutes == 40
    assert result.infusion_complete


def test_rate_changes_are_consecutive_segments():
    # 0.5 x 10 + 1.0 x 15 + 0.75 x 20 = 5 + 15 + 15
    result = total(start(0, "0.5"), change(10, "1.0"), change(25, "0.75"), stop(45))

    assert result.total_mg == Decimal("35.00")
    assert [(s.start_minute, s.end_minute, s.dose_mg) for s in result.segments] == [
        (0, 10, Decimal("5.0")),
        (10, 25, Decimal("15.0")),
        (25, 45, Decimal("15.00")),
    ]


def test_a_pause_delivers_nothing_and_resume_keeps_the_rate():
    # 0.875 x 12 + 0.875 x (45 - 17) = 0.875 x 40
    result = total(start(0, "0.875"), pause(12), resume(17), stop(45))

    assert result.total_mg == Decimal("35.00")
    assert result.infusion_running_minutes == 40


def test_resume_may_set_a_new_rate():
    # 1.0 x 10 + 0.5 x (35 - 15)
    assert total(start(0, 1), pause(10), resume(15, "0.5"), stop(35)).total_mg == Decimal("20.00")


def test_an_early_stop_delivers_only_what_ran():
    # 0.875 x 30 instead of 0.875 x 40
    assert total(start(0, "0.875"), stop(30)).total_mg == Decimal("26.25")


def test_a_stop_while_paused_ends_the_infusion_at_the_pause():
    assert total(start(0, 1), pause(20), stop(30)).total_mg == Decimal("20.00")


def test_a_running_infusion_totals_up_to_now():
    result = total(start(0, "0.875"), until_minute=20)

    assert result.total_mg == Decimal("17.50")
    assert not result.infusion_complete


def test_boluses_add_to_the_infusion():
    record = AdministrationRecord(
        infusion=(start(0, "0.875"), stop(40)), boluses=(Bolus(20, Decimal(5)),)
    )

    result = delivered(record)

    assert (result.infusion_mg, result.bolus_mg, result.total_mg) == (
        Decimal("35.00"),
        Decimal("5.00"),
        Decimal("40.00"),
    )


def test_only_the_final_total_is_rounded_half_up_to_a_hundredth_of_a_mg():
    # 0.333 x 7 = 2.331 exactly; shown as 2.33
    result = total(start(0, "0.333"), stop(7))
    assert (result.exact_total_mg, result.total_mg) == (Decimal("2.331"), Decimal("2.33"))

    half = delivered(AdministrationRecord(boluses=(Bolus(0, Decimal("1.005")),)))
    assert half.total_mg == Decimal("1.01")


def test_fractional_minutes_from_timestamps_stay_exact():
    # 1 mg/min from 0 to 90 s
    assert total(start(0, 1), stop(Decimal("1.5"))).exact_total_mg == Decimal("1.5")


def test_an_empty_record_delivers_nothing():
    result = delivered(AdministrationRecord())

    assert result.total_mg == Decimal("0.00")
    assert result.infusion_complete


@pytest.mark.parametrize(
    ("events", "message"),
    [
        (
            (start(0, 1), resume(5), stop(10)),
            "resume is not possible while the infusion is running",
        ),
        (
            (start(0, 1), pause(5), change(6, 2)),
            "rate_change is not possible while the infusion is paused",
        ),
        (
            (start(0, 1), stop(10), start(12, 1)),
            "start is not possible while the infusion is stopped",
        ),
        ((pause(0),), "pause is not possible while the infusion is idle"),
        ((start(10, 1), stop(5)), "oldest first"),
        ((InfusionEvent(0, "start"), stop(5)), "start needs rate_mg_per_min"),
    ],
    ids=[
        "resume while running",
        "rate change while paused",
        "start after stop",
        "pause before start",
        "out of order",
        "start without a rate",
    ],
)
def test_an_impossible_sequence_is_refused_naming_the_event(events, message):
    with pytest.raises(AdministrationError, match=message) as caught:
        total(*events)

    assert caught.value.field.startswith("infusion[")


def test_a_running_infusion_without_a_time_to_total_to_is_refused():
    with pytest.raises(AdministrationError) as caught:
        total(start(0, 1))

    assert caught.value.field == "until_minute"


def test_the_time_to_total_to_cannot_be_before_the_last_event():
    with pytest.raises(AdministrationError, match="before the last infusion event"):
        total(start(0, 1), change(10, 2), until_minute=5)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: InfusionEvent(0, "start", Decimal(0)), "rate_mg_per_min"),
        (lambda: InfusionEvent(0, "pause", Decimal(1)), "rate_mg_per_min"),
        (lambda: InfusionEvent(-1, "start", Decimal(1)), "minute"),
        (lambda: InfusionEvent(0, "bolus", Decimal(1)), "kind"),
        (lambda: Bolus(0, Decimal(-5)), "dose_mg"),
        (lambda: Bolus(0, True), "dose_mg"),
    ],
    ids=[
        "zero rate",
        "rate on a pause",
        "before the session",
        "unknown kind",
        "negative bolus",
        "boolean dose",
    ],
)
def test_a_malformed_entry_is_refused_on_construction(build, field):
    with pytest.raises(AdministrationError) as caught:
        build()

    assert caught.value.field == field
