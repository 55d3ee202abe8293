"""A signed screening holds for the configured days and goes stale when the facts the rules
read from the record change; the reasons are said in words."""

from __future__ import annotations

import datetime as dt

import pytest

from ketaclinic.screening import validity
from ketaclinic.screening.validity import RecordFacts


def facts(**changes) -> dict:
    values = {
        "age_years": 40,
        "adequate_trials": 2,
        "derived_codes": frozenset(),
        "oral_antidepressant_on_record": True,
    } | changes
    return validity.fingerprint(RecordFacts(**values))


def test_the_default_is_thirty_days_marked_as_the_clinics_policy_no_guideline():
    policy = validity.policy()

    assert policy.valid_days == 30
    assert policy.sources[0].startswith("Clinic policy")
    assert "no guideline" in policy.sources[0]


def test_the_signing_day_counts_as_the_first_day():
    assert validity.last_valid_day(dt.date(2026, 3, 1)) == dt.date(2026, 3, 30)
    assert validity.last_valid_day(dt.date(2026, 3, 1), valid_days=1) == dt.date(2026, 3, 1)


def test_age_bands_come_from_the_rules_thresholds():
    assert validity.age_thresholds() == (18, 65)
    assert [validity.age_band(age) for age in (17, 18, 64, 65)] == [
        "under 18",
        "18 to 64",
        "18 to 64",
        "65 or over",
    ]


def test_unchanged_facts_are_not_stale():
    assert validity.stale_reasons(facts(), facts(age_years=41)) == []


@pytest.mark.parametrize(
    ("now", "reason"),
    [
        (
            facts(derived_codes=frozenset({"cns_depressants"})),
            "new medication in cns_depressants since screening",
        ),
        (
            facts(derived_codes=frozenset({"schizophrenia"})),
            "new diagnosis of schizophrenia since screening",
        ),
        (
            facts(adequate_trials=3),
            "adequate antidepressant trials changed from 2 to 3 since screening",
        ),
        (
            facts(age_years=65),
            "the patient's age moved from 18 to 64 to 65 or over since screening",
        ),
        (
            facts(oral_antidepressant_on_record=False),
            "oral antidepressant stopped on the record since screening",
        ),
    ],
)
def test_each_rule_relevant_change_is_named(now, reason):
    assert validity.stale_reasons(facts(), now) == [reason]


def test_a_finding_gone_from_the_record_is_named_too():
    then = facts(derived_codes=frozenset({"stimulants_or_maoi"}))

    assert validity.stale_reasons(then, facts()) == [
        "stimulants_or_maoi no longer on the record since screening"
    ]


def test_a_fingerprint_from_other_rules_is_stale():
    assert validity.stale_reasons(facts() | {"version": 0}, facts()) == [
        "the screening predates the current screening rules"
    ]
