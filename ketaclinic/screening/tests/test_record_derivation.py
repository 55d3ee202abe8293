"""Findings the record states are derived from it, each naming the entry and the basis;
the mapping data is checked when it loads."""

from __future__ import annotations

import copy
from importlib import resources

import pytest
import yaml

from ketaclinic.screening import derivation, rules
from ketaclinic.screening.derivation import MappingError


def test_mapped_diagnoses_and_medication_classes_state_findings():
    found = derivation.derive_findings(
        diagnoses=[("F31.5", "Bipolar, depressed, psychotic"), ("F33.2", "MDD")],
        medications=[("Lorazepam", "benzodiazepine"), ("Sertraline", "ssri")],
    )

    assert list(found) == ["psychosis_history", "bipolar_disorder", "cns_depressants"]
    assert found["psychosis_history"].because == ("diagnosis F31.5 Bipolar, depressed, psychotic",)
    assert "ICD-10-CM F31.5" in found["psychosis_history"].basis[0]
    assert found["cns_depressants"].because == ("medication Lorazepam (Benzodiazepine)",)


@pytest.mark.parametrize(
    ("icd10", "finding"),
    [
        ("F20.9", "schizophrenia"),
        ("F29", "psychosis_history"),
        ("F31.4", "bipolar_disorder"),
        ("F19.20", "active_substance_use_disorder"),
    ],
)
def test_each_clear_diagnosis_maps(icd10, finding):
    assert finding in derivation.derive_findings(diagnoses=[(icd10, "")])


@pytest.mark.parametrize("icd10", ["F33.2", "F41.1", "I10", "G89.4"])
def test_diagnoses_that_state_no_finding_add_none(icd10):
    assert derivation.derive_findings(diagnoses=[(icd10, "")]) == {}


@pytest.mark.parametrize(
    ("drug_class", "finding"),
    [
        ("benzodiazepine", "cns_depressants"),
        ("opioid", "cns_depressants"),
        ("sedative_hypnotic", "cns_depressants"),
        ("psychostimulant", "stimulants_or_maoi"),
        ("maoi", "stimulants_or_maoi"),
    ],
)
def test_medication_classes_map_through_the_record_vocabulary(drug_class, finding):
    assert list(derivation.derive_findings(medications=[("x", drug_class)])) == [finding]


def test_two_entries_stating_the_same_finding_are_both_named():
    found = derivation.derive_findings(
        medications=[("Tramadol", "opioid"), ("Zolpidem", "sedative_hypnotic")]
    )

    assert len(found["cns_depressants"].because) == 2


def test_oral_antidepressants_are_the_antidepressant_classes():
    assert derivation.oral_antidepressants(
        [("Sertraline", "ssri"), ("Lorazepam", "benzodiazepine"), ("Phenelzine", "maoi")]
    ) == ("Sertraline", "Phenelzine")


def test_every_derived_code_is_reportable_so_the_engine_accepts_it():
    reportable = set(rules.reportable_codes())
    for mapping in derivation.diagnosis_mappings().values():
        assert set(mapping.findings) <= reportable


@pytest.fixture(scope="module")
def shipped():
    text = resources.files("ketaclinic.screening").joinpath("data", "record_findings.yaml")
    return yaml.safe_load(text.read_text())


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda d: d["diagnoses"][0].update(basis=""), "basis"),
        (lambda d: d["diagnoses"][0].update(findings=["minor"]), "reportable"),
        (lambda d: d["diagnoses"][0].update(findings=["gout"]), "reportable"),
        (lambda d: d["diagnoses"][0].update(icd10="Z99.9"), "ICD-10"),
        (lambda d: d["diagnoses"].append(dict(d["diagnoses"][0])), "twice"),
        (lambda d: d["diagnoses"][0].update(extra=1), "exactly"),
    ],
)
def test_a_malformed_mapping_file_is_refused(shipped, mutate, problem):
    document = copy.deepcopy(shipped)
    mutate(document)

    with pytest.raises(MappingError, match=problem):
        derivation.parse_mappings(document)
