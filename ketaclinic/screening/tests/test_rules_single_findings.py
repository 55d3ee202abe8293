"""Each reported finding alone gives its severity and decision, on every route."""

from __future__ import annotations

import pytest

from ketaclinic.screening import rules
from ketaclinic.screening.rules import Decision, Severity

EXCLUDING = [
    "pregnant",
    "breastfeeding",
    "acute_cardiovascular_disease",
    "uncontrolled_hypertension",
    "bp_rise_hazard",
    "aneurysmal_vascular_disease",
    "intracerebral_hemorrhage_history",
    "ketamine_hypersensitivity",
    "prior_negative_response",
    "psychosis_history",
    "schizophrenia",
    "current_mania",
    "increased_intracranial_pressure",
    "recent_cardiovascular_event",
    "active_substance_use_disorder",
]
CAUTIONING = [
    "substance_use_history",
    "bipolar_disorder",
    "stroke_tia_6_months",
    "significant_valve_disease",
    "heart_failure_nyha_3_4",
    "significant_lung_disease",
    "sleep_apnea_bmi_35",
    "uncontrolled_arrhythmia",
    "moderate_hepatic_impairment",
    "cystitis_history",
    "cognitive_impairment",
    "hypertensive_encephalopathy_history",
    "cns_depressants",
    "stimulants_or_maoi",
]
ROUTES = ["iv", "im", "esketamine", "sublingual", "oral"]


def _screen(route="iv", findings=(), **overrides):
    # A 40-year-old with PTSD: no computed finding applies, so only the reported one shows.
    inputs = {
        "route": route,
        "indication": "ptsd",
        "age_years": 40,
        "adequate_antidepressant_trials": 0,
        "findings": findings,
    }
    return rules.evaluate(**(inputs | overrides))


@pytest.mark.parametrize("route", ROUTES)
def test_a_patient_without_findings_is_eligible(route):
    result = _screen(route)
    assert result.decision is Decision.ELIGIBLE
    assert result.findings == ()


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("code", EXCLUDING)
def test_an_excluding_finding_alone_makes_the_patient_ineligible(code, route):
    result = _screen(route, {code})
    assert result.decision is Decision.INELIGIBLE
    assert [(f.code, f.severity) for f in result.findings] == [(code, Severity.EXCLUDE)]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("code", CAUTIONING)
def test_a_cautioning_finding_alone_needs_review(code, route):
    result = _screen(route, [code])
    assert result.decision is Decision.NEEDS_REVIEW
    assert [(f.code, f.severity) for f in result.findings] == [(code, Severity.CAUTION)]


@pytest.mark.parametrize(
    ("route", "severity", "decision"),
    [
        ("esketamine", Severity.EXCLUDE, Decision.INELIGIBLE),
        ("iv", Severity.CAUTION, Decision.NEEDS_REVIEW),
        ("im", Severity.CAUTION, Decision.NEEDS_REVIEW),
        ("sublingual", Severity.CAUTION, Decision.NEEDS_REVIEW),
        ("oral", Severity.CAUTION, Decision.NEEDS_REVIEW),
    ],
)
def test_severe_hepatic_impairment_excludes_esketamine_and_cautions_otherwise(
    route, severity, decision
):
    result = _screen(route, ["severe_hepatic_impairment"])
    assert result.decision is decision
    assert result.findings[0].severity is severity


def test_a_finding_carries_its_message_and_sources():
    (finding,) = _screen(findings=["pregnant"]).findings
    sources = [
        "'Ketamine Therapy: Types, Therapeutic Uses, Benefits, and Side Effects' (2022)",
        "Prescribing information (drug label)",
    ]
    assert finding.sources == tuple(sources)
    assert "pregnancy" in finding.message
    assert finding.as_dict() == {
        "code": "pregnant",
        "severity": "exclude",
        "message": finding.message,
        "sources": sources,
    }


def test_enum_members_are_accepted_like_their_codes():
    result = rules.evaluate(
        route=rules.Route.IM,
        indication=rules.Indication.ANXIETY,
        age_years=30,
        adequate_antidepressant_trials=0,
    )
    assert result.decision is Decision.ELIGIBLE
