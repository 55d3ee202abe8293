"""The protocol catalog loads REFERENCE.md sections 1 and 3 with a source for every number."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ketaclinic.protocols import catalog
from ketaclinic.protocols.catalog import DoseBasis, UnknownCodeError


def test_the_catalog_has_a_protocol_for_every_route():
    assert {p.route for p in catalog.protocols()} == {
        "iv",
        "im",
        "esketamine",
        "sublingual",
        "oral",
    }
    assert [p.code for p in catalog.protocols()] == [
        "iv_racemic",
        "im_racemic",
        "esketamine_trd",
        "esketamine_mdsi",
        "sublingual_racemic",
        "oral_racemic",
    ]


def test_iv_defaults_to_half_a_milligram_per_kilo_over_40_minutes():
    iv = catalog.get_protocol("iv_racemic")
    assert iv.dose.basis is DoseBasis.MG_PER_KG
    assert (iv.dose.default_mg_per_kg.min, iv.dose.default_mg_per_kg.max) == (
        Decimal("0.5"),
        Decimal("0.5"),
    )
    assert (iv.dose.allowed_mg_per_kg.min, iv.dose.allowed_mg_per_kg.max) == (
        Decimal("0.1"),
        Decimal("1.0"),
    )
    assert iv.infusion.default_minutes == 40
    assert (iv.infusion.allowed_minutes.min, iv.infusion.allowed_minutes.max) == (40, 60)
    assert "Murrough et al., 2013, Am J Psychiatry" in iv.dose.default_mg_per_kg.sources
    assert iv.course_schedules == ("iv_induction", "iv_maintenance")


def test_im_defaults_to_a_quarter_to_half_a_milligram_per_kilo():
    im = catalog.get_protocol("im_racemic")
    assert (im.dose.default_mg_per_kg.min, im.dose.default_mg_per_kg.max) == (
        Decimal("0.25"),
        Decimal("0.5"),
    )
    assert im.infusion is None
    assert im.dose.default_mg_per_kg.sources == ("Chilukuri et al., 2014, Indian J Psychol Med",)


@pytest.mark.parametrize("code", ["iv_racemic", "im_racemic"])
def test_iv_and_im_fast_four_to_six_hours(code):
    fasting = catalog.get_protocol(code).fasting
    assert (fasting.food_min_hours, fasting.food_max_hours) == (4, 6)
    assert fasting.clinic_editable


@pytest.mark.parametrize("code", ["esketamine_trd", "esketamine_mdsi"])
def test_esketamine_uses_28_mg_devices_and_the_label_preparation_and_monitoring(code):
    protocol = catalog.get_protocol(code)
    assert protocol.dose.device_mg == 28
    assert protocol.dose.allowed_doses_mg == (28, 56, 84)
    assert protocol.dose.minutes_between_devices == 5
    assert protocol.fasting.food_min_hours == 2
    assert protocol.fasting.liquids_min_minutes == 30
    assert protocol.fasting.nasal_steroids_decongestants_min_hours_before == 1
    assert protocol.monitoring.observation_after_dose_minutes >= 120
    assert protocol.dose.older_adult.from_age_years == 65
    assert protocol.dose.older_adult.start_mg == 28


def test_esketamine_trd_starts_at_56_mg_and_mdsi_at_84_mg():
    assert catalog.get_protocol("esketamine_trd").dose.first_session_max_mg == 56
    assert catalog.get_protocol("esketamine_mdsi").dose.first_session_max_mg == 84


def test_esketamine_trd_phases_follow_the_label():
    phases = catalog.get_protocol("esketamine_trd").phases
    assert [(p.name, p.from_week, p.to_week, p.frequency) for p in phases] == [
        ("induction", 1, 4, "twice weekly"),
        ("optimization", 5, 8, "weekly"),
        ("maintenance", 9, None, "every 2 weeks or weekly"),
    ]


@pytest.mark.parametrize("code", ["sublingual_racemic", "oral_racemic"])
def test_sublingual_and_oral_allow_a_quarter_to_seven_mg_per_kilo_or_a_fixed_dose(code):
    dose = catalog.get_protocol(code).dose
    assert dose.basis is DoseBasis.MG_PER_KG_OR_FIXED_MG
    assert (dose.allowed_mg_per_kg.min, dose.allowed_mg_per_kg.max) == (
        Decimal("0.25"),
        Decimal("7"),
    )
    assert (dose.allowed_fixed_mg.min, dose.allowed_fixed_mg.max) == (Decimal(25), Decimal(300))


def test_only_sublingual_and_oral_may_be_used_at_home():
    assert {p.code for p in catalog.protocols() if p.home_use_allowed} == {
        "sublingual_racemic",
        "oral_racemic",
    }


def test_every_protocol_and_every_part_of_it_names_its_sources():
    for protocol in catalog.protocols():
        assert protocol.sources, protocol.code
        assert protocol.fasting.sources, protocol.code
        assert protocol.monitoring.sources, protocol.code
        assert all(phase.sources for phase in protocol.phases), protocol.code
        for dose_range in (protocol.dose.default_mg_per_kg, protocol.dose.allowed_mg_per_kg):
            assert dose_range is None or dose_range.sources, protocol.code


def test_a_missing_monitoring_time_says_who_sets_it():
    for protocol in catalog.protocols():
        if protocol.monitoring.observation_after_dose_minutes is None:
            assert "clinic sets it" in protocol.monitoring.note


def test_every_course_schedule_exists():
    for protocol in catalog.protocols():
        for code in protocol.course_schedules:
            assert catalog.get_schedule(code).code == code


def test_an_unknown_protocol_code_raises_listing_the_known_ones():
    with pytest.raises(UnknownCodeError) as caught:
        catalog.get_protocol("ketamine_iv")
    assert "iv_racemic" in str(caught.value)
    with pytest.raises(UnknownCodeError):
        catalog.get_schedule("weekly")


def test_the_dosing_policy_is_issue_3_policy_and_clinic_editable():
    policy = catalog.catalog().dosing_policy
    assert (policy.weight_kg.min, policy.weight_kg.max) == (Decimal(30), Decimal(250))
    assert policy.weight_kg.clinic_editable
    assert policy.weight_max_age_days == 30
    assert policy.dose_increment_mg == Decimal("0.1")
    assert policy.rate_increment_mg_per_min == Decimal("0.01")


def test_the_catalog_is_loaded_once():
    assert catalog.catalog() is catalog.catalog()
