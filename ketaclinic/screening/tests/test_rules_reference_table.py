"""The findings vocabulary is REFERENCE.md section 2, row for row."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ketaclinic.screening import rules

# REFERENCE.md section 2, "Screening findings": (code, severity). The severity of
# severe_hepatic_impairment depends on the route and is tested on its own.
REFERENCE_SEVERITIES = [
    ("pregnant", "exclude"),
    ("breastfeeding", "exclude"),
    ("minor", "exclude"),
    ("acute_cardiovascular_disease", "exclude"),
    ("uncontrolled_hypertension", "exclude"),
    ("bp_rise_hazard", "exclude"),
    ("aneurysmal_vascular_disease", "exclude"),
    ("intracerebral_hemorrhage_history", "exclude"),
    ("ketamine_hypersensitivity", "exclude"),
    ("prior_negative_response", "exclude"),
    ("psychosis_history", "exclude"),
    ("schizophrenia", "exclude"),
    ("current_mania", "exclude"),
    ("increased_intracranial_pressure", "exclude"),
    ("recent_cardiovascular_event", "exclude"),
    ("active_substance_use_disorder", "exclude"),
    ("severe_hepatic_impairment", "caution"),
    ("bp_too_high_today", "exclude"),
    ("elevated_bp_today", "caution"),
    ("substance_use_history", "caution"),
    ("bipolar_disorder", "caution"),
    ("stroke_tia_6_months", "caution"),
    ("significant_valve_disease", "caution"),
    ("heart_failure_nyha_3_4", "caution"),
    ("significant_lung_disease", "caution"),
    ("sleep_apnea_bmi_35", "caution"),
    ("uncontrolled_arrhythmia", "caution"),
    ("moderate_hepatic_impairment", "caution"),
    ("cystitis_history", "caution"),
    ("cognitive_impairment", "caution"),
    ("hypertensive_encephalopathy_history", "caution"),
    ("cns_depressants", "caution"),
    ("stimulants_or_maoi", "caution"),
    ("trd_criteria_not_met", "caution"),
    ("oral_antidepressant_required", "caution"),
    ("older_adult_esketamine", "info"),
]

COMPUTED = {
    "minor",
    "bp_too_high_today",
    "elevated_bp_today",
    "trd_criteria_not_met",
    "oral_antidepressant_required",
    "older_adult_esketamine",
}

REFERENCE_FILE = Path(__file__).resolve().parents[3].parent / "shared/domain/REFERENCE.md"

# How the data file cites each REFERENCE.md source cell, as a reader cites it (pages show it):
# one citation per cell, in the cell's order.
CITED_AS = {
    "seed 000": "'The Transformative Power of Ketamine Therapy' (patient guide)",
    "seed 002": "'Ketamine Therapy: Types, Therapeutic Uses, Benefits, and Side Effects' (2022)",
    'seed 002 ("not recommended for children")': (
        "'Ketamine Therapy: Types, Therapeutic Uses, Benefits, and Side Effects' (2022): "
        '"not recommended for children"'
    ),
    "seeds 000, 002": (
        "'The Transformative Power of Ketamine Therapy'; "
        "'Ketamine Therapy: Types, Therapeutic Uses, Benefits, and Side Effects' (2022)"
    ),
    "seeds 000, 001": (
        "'The Transformative Power of Ketamine Therapy'; 'Benefits of Ketamine Therapy' "
        "(patient guides)"
    ),
    "label": "Prescribing information (drug label)",
    "labels": "Ketamine (Ketalar) and esketamine (Spravato) prescribing information",
    "Ketalar label": "Ketalar (ketamine) prescribing information",
    "esketamine label": "Spravato (esketamine) prescribing information",
    "esketamine label example": "Spravato (esketamine) prescribing information (its example)",
    "EU SmPC": "Spravato EU summary of product characteristics",
    "Hull 2022 exclusions": "Hull et al., 2022, J Affect Disord (exclusion criteria)",
    "default clinic policy [U]": "Clinic policy (no guideline fixes it)",
}


def _reference_rows() -> list[tuple[str, str, list[str]]]:
    """(code, severity cell, sources) of the REFERENCE.md section 2 findings table."""
    text = REFERENCE_FILE.read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        match = re.match(r"^\| `([a-z0-9_]+)` \| [^|]+ \| ([^|]+) \| ([^|]+) \|$", line)
        if match:
            code, severity, sources = match.groups()
            rows.append((code, severity.strip(), [s.strip() for s in sources.split(";")]))
    return rows


def test_the_vocabulary_has_the_36_reference_rows_in_reference_order():
    assert [entry.code for entry in rules.vocabulary_entries()] == [
        code for code, _ in REFERENCE_SEVERITIES
    ]


@pytest.mark.parametrize(("code", "severity"), REFERENCE_SEVERITIES)
def test_each_code_has_its_reference_severity(code, severity):
    assert rules.vocabulary().by_code[code].severity == severity


def test_exactly_the_computed_rows_are_computed():
    assert {e.code for e in rules.vocabulary_entries() if e.is_computed} == COMPUTED


def test_reportable_codes_are_the_other_thirty():
    assert set(rules.reportable_codes()) == {c for c, _ in REFERENCE_SEVERITIES} - COMPUTED
    assert len(rules.reportable_codes()) == 30


def test_every_entry_names_its_sources_and_a_plain_message():
    for entry in rules.vocabulary_entries():
        assert entry.sources, entry.code
        assert len(entry.message) > 20, entry.code


@pytest.mark.skipif(not REFERENCE_FILE.exists(), reason="../shared/domain/REFERENCE.md absent")
def test_the_data_file_matches_the_reference_table_codes_severities_and_sources():
    rows = _reference_rows()
    assert len(rows) == 36
    vocabulary = rules.vocabulary()
    for code, severity_cell, sources in rows:
        entry = vocabulary.by_code[code]
        expected = entry.severity.value
        for route, severity in entry.severity_by_route:
            # "exclude for `esketamine`, caution otherwise"
            expected = f"{severity.value} for `{route.value}`, {entry.severity.value} otherwise"
        assert severity_cell.startswith(expected), code
        assert list(entry.sources) == [CITED_AS[source] for source in sources], code
