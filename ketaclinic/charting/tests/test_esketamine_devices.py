"""Esketamine devices are 28 mg each and need 5 min rest between them [label]."""

from __future__ import annotations

from decimal import Decimal

from ketaclinic.charting.administration import (
    DEFAULT_FACTS,
    AdministrationRecord,
    NasalDevice,
    delivered,
    device_rest_warnings,
)


def devices(*minutes):
    return tuple(NasalDevice(m) for m in minutes)


def test_a_device_is_28_mg_from_the_label():
    assert DEFAULT_FACTS.device_mg == 28
    assert "label" in DEFAULT_FACTS.device_source


def test_two_devices_5_minutes_apart_deliver_56_mg_without_warning():
    result = delivered(AdministrationRecord(devices=devices(0, 5)))

    assert result.esketamine_mg == Decimal("56.00")
    assert result.warnings == ()


def test_three_devices_deliver_84_mg():
    assert delivered(AdministrationRecord(devices=devices(0, 5, 10))).total_mg == Decimal("84.00")


def test_devices_4_minutes_apart_are_named_in_a_warning():
    (warning,) = device_rest_warnings(devices(0, 4))

    assert (warning.first, warning.second, warning.gap_minutes) == ("device 1", "device 2", 4)
    assert warning.message == (
        "device 2 (minute 4) was used 4 min after device 1 (minute 0); rest 5 min between devices"
    )
    assert "label" in warning.source


def test_only_the_pair_too_close_is_named():
    (warning,) = device_rest_warnings(devices(0, 5, 9))

    assert (warning.first, warning.second) == ("device 2", "device 3")


def test_a_device_used_too_soon_still_counts_toward_the_dose():
    result = delivered(AdministrationRecord(devices=devices(0, 3)))

    assert result.total_mg == Decimal("56.00")
    assert len(result.warnings) == 1


def test_devices_keep_their_chart_names_and_are_ordered_by_minute():
    record = (NasalDevice(7, name="lot B7 #2"), NasalDevice(4, name="lot B7 #1"))

    (warning,) = device_rest_warnings(record)

    assert (warning.first, warning.second) == ("lot B7 #1", "lot B7 #2")
