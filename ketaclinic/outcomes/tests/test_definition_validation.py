"""The loader refuses a definition it could not score safely, and says where the fault is."""

from __future__ import annotations

import copy

import pytest
import yaml

from ketaclinic.outcomes.definitions import DefinitionError, load_instruments, parse_instrument

YES_NO = [{"value": 0, "text": "No"}, {"value": 1, "text": "Yes"}]


def minimal_definition():
    """A valid three-item yes/no checklist, mutated by each test below."""
    return {
        "code": "checklist",
        "name": "Test checklist",
        "version": 1,
        "status": "active",
        "rater": "patient",
        "licence": "test",
        "source": "REFERENCE.md (test fixture)",
        "item_text_verified": False,
        "options": copy.deepcopy(YES_NO),
        "items": [{"number": n, "text": f"Question {n}"} for n in (1, 2, 3)],
        "scoring": {"type": "sum", "source": "test"},
        "total": {"min": 0, "max": 3},
        "bands": [
            {"code": "low", "min": 0, "max": 1},
            {"code": "high", "min": 2, "max": 3},
        ],
        "flags": [{"code": "q3_yes", "item": 3, "above": 0, "source": "test"}],
    }


def test_the_minimal_definition_is_valid():
    instrument = parse_instrument(minimal_definition())
    assert instrument.code == "checklist"
    assert instrument.items[0].values == frozenset({0, 1})


def _rejects(definition, *fragments):
    with pytest.raises(DefinitionError) as raised:
        parse_instrument(definition, origin="checklist.yaml")
    message = str(raised.value)
    assert "checklist.yaml" in message
    for fragment in fragments:
        assert fragment in message
    return message


def test_it_rejects_a_gap_between_bands():
    definition = minimal_definition()
    definition["bands"][1]["min"] = 3
    _rejects(definition, "bands", "expected 2")


def test_it_rejects_overlapping_bands():
    definition = minimal_definition()
    definition["bands"][1]["min"] = 1
    _rejects(definition, "bands", "expected 2")


def test_it_rejects_bands_that_stop_short_of_the_highest_total():
    definition = minimal_definition()
    definition["bands"][1]["max"] = 2
    _rejects(definition, "bands end at 2", "reaches 3")


def test_it_rejects_a_declared_total_the_items_cannot_produce():
    definition = minimal_definition()
    definition["total"]["max"] = 4
    _rejects(definition, "total", "declared 0–4", "items give 0–3")


def test_it_rejects_unknown_keys_so_typos_do_not_pass_silently():
    definition = minimal_definition()
    definition["flags"][0]["abvoe"] = 0
    _rejects(definition, "unknown keys", "abvoe")


def test_it_rejects_an_unknown_scoring_rule():
    definition = minimal_definition()
    definition["scoring"]["type"] = "average"
    _rejects(definition, "unknown rule", "average")


def test_it_rejects_items_out_of_order():
    definition = minimal_definition()
    definition["items"][1]["number"] = 3
    _rejects(definition, "numbered")


def test_it_rejects_a_flag_on_an_item_that_does_not_exist():
    definition = minimal_definition()
    definition["flags"][0]["item"] = 4
    _rejects(definition, "item 4 does not exist")


def test_it_rejects_a_flag_that_could_never_fire():
    definition = minimal_definition()
    definition["flags"][0]["above"] = 1
    _rejects(definition, "never or always")


def test_it_rejects_repeated_answer_values():
    definition = minimal_definition()
    definition["options"][1]["value"] = 0
    _rejects(definition, "repeat")


def test_it_rejects_a_boolean_where_a_number_belongs():
    definition = minimal_definition()
    definition["options"][1]["value"] = True
    _rejects(definition, "expected an integer")


def test_it_rejects_domains_that_do_not_cover_every_item_once():
    definition = minimal_definition()
    definition["scoring"] = {
        "type": "qids_domains",
        "source": "test",
        "domains": [{"code": "a", "items": [1, 2]}, {"code": "b", "items": [2]}],
    }
    _rejects(definition, "exactly once")


def test_it_rejects_a_pcl5_rule_without_cluster_minimums():
    definition = minimal_definition()
    definition["scoring"] = {
        "type": "pcl5",
        "source": "test",
        "endorsed_at": 1,
        "domains": [{"code": "B", "items": [1, 2, 3]}],
    }
    _rejects(definition, "min_endorsed")


def test_it_rejects_risk_ranks_outside_a_max_item_risk_rule():
    definition = minimal_definition()
    definition["options"][1]["risk"] = 1
    _rejects(definition, "risk is only meaningful")


def test_it_rejects_a_response_rule_with_both_percent_and_points():
    definition = minimal_definition()
    definition["outcome"] = {"response": {"fall_pct": 50, "fall_points": 1, "source": "test"}}
    _rejects(definition, "exactly one of fall_pct or fall_points")


def test_it_rejects_a_remission_line_outside_the_total_range():
    definition = minimal_definition()
    definition["outcome"] = {
        "response": None,
        "remission": [{"code": "remission", "at_most": 9, "source": "test"}],
    }
    _rejects(definition, "outside the total range")


def test_it_rejects_an_unknown_rater():
    definition = minimal_definition()
    definition["rater"] = "family"
    _rejects(definition, "rater")


def test_a_directory_with_two_definitions_of_one_code_is_refused(tmp_path):
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(yaml.safe_dump(minimal_definition()), encoding="utf-8")
    with pytest.raises(DefinitionError, match="repeats"):
        load_instruments(tmp_path)


def test_a_clinic_directory_loads_through_the_same_validation(tmp_path):
    (tmp_path / "checklist.yaml").write_text(
        yaml.safe_dump(minimal_definition(), allow_unicode=True), encoding="utf-8"
    )
    assert list(load_instruments(tmp_path)) == ["checklist"]
