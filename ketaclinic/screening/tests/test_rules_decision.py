"""The decision rule over several findings, and the order findings are listed in."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketaclinic.screening import rules
from ketaclinic.screening.rules import Decision, Severity


def _screen(**overrides):
    inputs = {
        "route": "iv",
        "indication": "ptsd",
        "age_years": 40,
        "adequate_antidepressant_trials": 0,
    }
    return rules.evaluate(**(inputs | overrides))


@pytest.mark.parametrize(
    ("overrides", "decision"),
    [
        ({"findings": {"cns_depressants", "cystitis_history"}}, Decision.NEEDS_REVIEW),
        ({"findings": {"cns_depressants", "pregnant"}}, Decision.INELIGIBLE),
        ({"route": "esketamine", "age_years": 70}, Decision.ELIGIBLE),
        (
            {"route": "esketamine", "age_years": 70, "findings": {"stimulants_or_maoi"}},
            Decision.NEEDS_REVIEW,
        ),
        ({"age_years": 16, "findings": {"bipolar_disorder"}}, Decision.INELIGIBLE),
        (
            {"indication": "trd", "systolic_mmhg": 150, "diastolic_mmhg": 85},
            Decision.NEEDS_REVIEW,
        ),
        (
            {"indication": "trd", "systolic_mmhg": 190, "diastolic_mmhg": 85},
            Decision.INELIGIBLE,
        ),
        (
            {"route": "esketamine", "findings": {"moderate_hepatic_impairment"}},
            Decision.NEEDS_REVIEW,
        ),
        (
            {"route": "esketamine", "findings": {"severe_hepatic_impairment"}},
            Decision.INELIGIBLE,
        ),
    ],
)
def test_exclude_beats_caution_beats_info(overrides, decision):
    assert _screen(**overrides).decision is decision


def test_findings_are_listed_excludes_then_cautions_then_info_in_vocabulary_order():
    result = _screen(
        route="esketamine",
        indication="mdd_suicidal_ideation",
        age_years=70,
        findings=["stimulants_or_maoi", "pregnant", "cystitis_history", "schizophrenia"],
        systolic_mmhg=150,
        diastolic_mmhg=95,
    )
    assert [finding.code for finding in result.findings] == [
        "pregnant",
        "schizophrenia",
        "elevated_bp_today",
        "cystitis_history",
        "stimulants_or_maoi",
        "oral_antidepressant_required",
        "older_adult_esketamine",
    ]
    assert result.as_dict()["decision"] == "ineligible"


def test_the_same_inputs_in_any_order_give_the_same_result():
    codes = ["cns_depressants", "pregnant", "bipolar_disorder"]
    assert _screen(findings=codes) == _screen(findings=list(reversed(codes)))


@settings(max_examples=60, deadline=None)
@given(
    codes=st.sets(st.sampled_from(rules.reportable_codes())),
    route=st.sampled_from([route.value for route in rules.Route]),
    age_years=st.integers(0, 130),
)
def test_the_decision_always_follows_the_most_serious_finding(codes, route, age_years):
    result = _screen(findings=codes, route=route, age_years=age_years)
    severities = [finding.severity for finding in result.findings]
    assert set(codes) <= {finding.code for finding in result.findings}
    assert severities == sorted(
        severities, key=[Severity.EXCLUDE, Severity.CAUTION, Severity.INFO].index
    )
    if Severity.EXCLUDE in severities:
        assert result.decision is Decision.INELIGIBLE
    elif Severity.CAUTION in severities:
        assert result.decision is Decision.NEEDS_REVIEW
    else:
        assert result.decision is Decision.ELIGIBLE
