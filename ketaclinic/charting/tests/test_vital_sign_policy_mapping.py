"""The policy is data: it loads from a mapping, so a clinic can edit its thresholds."""

from __future__ import annotations

import copy

import pytest

from ketaclinic.charting.safety import (
    DEFAULT_POLICY,
    PolicyError,
    VitalSignPolicy,
    evaluate,
)
from ketaclinic.charting.vitals import VitalReading

REFERENCE_CODES = [
    "bp_high",
    "bp_high_sustained",
    "bp_critical",
    "tachycardia",
    "tachycardia_sustained",
    "bradycardia",
    "hypoxemia",
    "severe_hypoxemia",
    "respiratory_depression",
]


def mapping():
    return copy.deepcopy(DEFAULT_POLICY.to_mapping())


def test_the_default_policy_has_exactly_the_reference_codes():
    assert [rule.code for rule in DEFAULT_POLICY.rules] == REFERENCE_CODES


def test_the_default_policy_says_it_is_an_editable_unverified_default():
    assert "no guideline fixes" in DEFAULT_POLICY.status
    assert "editable" in DEFAULT_POLICY.status
    for rule in DEFAULT_POLICY.rules:
        assert "no guideline fixes it" in rule.basis, rule.code
        assert rule.basis.startswith("Default clinic policy (no guideline fixes it), editable"), (
            rule.code
        )


def test_a_policy_survives_the_round_trip_through_a_mapping():
    assert VitalSignPolicy.from_mapping(DEFAULT_POLICY.to_mapping()) == DEFAULT_POLICY


def test_a_clinic_can_lower_a_threshold():
    edited = mapping()
    edited["rules"][0]["when_any"][0]["value"] = 170
    policy = VitalSignPolicy.from_mapping(edited)

    alerts = evaluate([VitalReading(minute=0, systolic_mmhg=175, diastolic_mmhg=90)], policy)

    assert [a.code for a in alerts] == ["bp_high"]


def test_a_clinic_can_lengthen_the_sustained_window():
    edited = mapping()
    edited["rules"][1]["sustained"]["for_minutes"] = 10
    policy = VitalSignPolicy.from_mapping(edited)
    readings = [
        VitalReading(minute=0, systolic_mmhg=185, diastolic_mmhg=90),
        VitalReading(minute=5, systolic_mmhg=185, diastolic_mmhg=90),
    ]

    assert [a.code for a in evaluate(readings, policy)] == ["bp_high"]


def test_without_replaces_both_codes_of_a_family_are_reported():
    edited = mapping()
    del edited["rules"][2]["replaces"]
    policy = VitalSignPolicy.from_mapping(edited)

    alerts = evaluate([VitalReading(minute=0, systolic_mmhg=205, diastolic_mmhg=90)], policy)

    assert [a.code for a in alerts] == ["bp_critical", "bp_high"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m["rules"][0]["when_any"][0].update(field="glucose"), "unknown field"),
        (lambda m: m["rules"][0]["when_any"][0].update(op="=="), "operator"),
        (lambda m: m["rules"][0].update(level="urgent"), "level"),
        (lambda m: m["rules"][1]["sustained"].update(of="nonexistent"), "no rule"),
        (lambda m: m["rules"][1]["sustained"].update(of="bp_high_sustained"), "threshold"),
        (lambda m: m["rules"][1]["sustained"].update(for_minutes=0), "above 0"),
        (lambda m: m["rules"][2].update(replaces=["nothing"]), "no rule"),
        (lambda m: m["rules"].append(copy.deepcopy(m["rules"][0])), "unique"),
        (lambda m: m["rules"][0].pop("basis"), "basis"),
        (lambda m: m["rules"][0].update(sustained={"of": "bp_high", "for_minutes": 5}), "one of"),
        (lambda m: m["rules"][0]["when_any"][0].update(value="high"), "number"),
    ],
    ids=[
        "unknown field",
        "unknown operator",
        "unknown level",
        "sustained of a missing rule",
        "sustained of a sustained rule",
        "sustained for no time",
        "replaces a missing rule",
        "duplicate code",
        "no basis",
        "both when_any and sustained",
        "threshold not a number",
    ],
)
def test_a_broken_policy_is_refused_with_a_reason(edit, message):
    broken = mapping()
    edit(broken)

    with pytest.raises(PolicyError, match=message):
        VitalSignPolicy.from_mapping(broken)
