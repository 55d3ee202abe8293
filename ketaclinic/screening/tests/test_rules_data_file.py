"""A malformed findings data file is refused at load time, naming the problem."""

from __future__ import annotations

import copy
from importlib import resources

import pytest
import yaml

from ketaclinic.screening import rules
from ketaclinic.screening.rules import VocabularyError


@pytest.fixture(scope="module")
def shipped():
    text = resources.files("ketaclinic.screening").joinpath("data", "findings.yaml").read_text()
    return yaml.safe_load(text)


def _entry(document, code):
    return next(entry for entry in document["findings"] if entry["code"] == code)


def test_the_shipped_file_loads_from_a_path_too(tmp_path, shipped):
    path = tmp_path / "findings.yaml"
    path.write_text(yaml.safe_dump(shipped))
    assert rules.load_vocabulary(path) == rules.vocabulary()


def _break(shipped, mutate):
    document = copy.deepcopy(shipped)
    mutate(document)
    with pytest.raises(VocabularyError) as caught:
        rules.parse_vocabulary(document)
    return str(caught.value)


def test_an_entry_without_sources_is_refused(shipped):
    message = _break(shipped, lambda d: _entry(d, "pregnant").update(sources=[]))
    assert "pregnant" in message
    assert "source" in message


def test_an_unknown_severity_is_refused(shipped):
    message = _break(shipped, lambda d: _entry(d, "pregnant").update(severity="severe"))
    assert "severity" in message


def test_a_misspelt_key_is_refused(shipped):
    assert "unknown keys" in _break(
        shipped, lambda d: _entry(d, "pregnant").update(severty="exclude")
    )


def test_a_duplicate_code_is_refused(shipped):
    assert "duplicate" in _break(
        shipped, lambda d: d["findings"].append(copy.deepcopy(_entry(d, "pregnant")))
    )


def test_an_unknown_rule_is_refused(shipped):
    message = _break(shipped, lambda d: _entry(d, "minor")["computed"].update(rule="age_under"))
    assert "unknown rule" in message


def test_a_rule_missing_its_threshold_is_refused(shipped):
    message = _break(shipped, lambda d: _entry(d, "minor")["computed"].pop("age_years"))
    assert "needs exactly" in message


def test_a_message_naming_an_unknown_number_is_refused(shipped):
    message = _break(
        shipped, lambda d: _entry(d, "minor").update(message="Under {age_limit} years.")
    )
    assert "placeholder" in message


def test_a_severity_for_an_unknown_route_is_refused(shipped):
    message = _break(
        shipped,
        lambda d: _entry(d, "severe_hepatic_impairment").update(
            severity_by_route={"nasal": "exclude"}
        ),
    )
    assert "nasal" in message


def test_suppression_by_a_code_that_is_not_computed_is_refused(shipped):
    message = _break(
        shipped, lambda d: _entry(d, "elevated_bp_today").update(suppressed_by="pregnant")
    )
    assert "not a computed finding" in message


def test_an_unknown_record_area_is_refused(shipped):
    message = _break(shipped, lambda d: _entry(d, "pregnant").update(record_area="womb"))
    assert "record_area" in message
