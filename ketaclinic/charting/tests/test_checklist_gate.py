"""The pure checklist gate: which items block the start, over plain data (no database).

Items and their sources are data (``charting/data/checklist.yaml``); the gate reads what the
record derived and what clinicians answered, newest answer first.
"""

from __future__ import annotations

import datetime as dt

import pytest

from ketaclinic.charting.checklist import (
    DEFAULT_CHECKLIST,
    Checklist,
    ChecklistError,
    Derived,
    Entry,
    Facts,
    applies,
    gate,
    states,
)

AT = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
NURSE, PRESCRIBER, OTHER_NURSE = 1, 2, 3
DERIVED_OK = {
    "screening_valid": Derived(True, "signed eligible"),
    "no_new_contraindication": Derived(True, "record unchanged"),
    "weight_current": Derived(True, "70 kg today"),
    "fasting_confirmed": Derived(True, "patient confirmed"),
    "ride_home_confirmed": Derived(True, "patient confirmed"),
    "pre_treatment_vitals": Derived(True, "BP 124/78"),
    "phq9_today": Derived(True, "PHQ-9 completed today"),
    "rems_patient_enrolled": Derived(True, "REMS RP-1"),
    "rems_setting_certified": Derived(True, "certificate S-1"),
}


def facts(route="iv", *, weight_based=True, pregnancy=True, **derived) -> Facts:
    return Facts(
        route=route,
        weight_based_dose=weight_based,
        pregnancy_relevant=pregnancy,
        derived=DERIVED_OK | derived,
    )


def passed(code, by=NURSE, **extra) -> Entry:
    return Entry(code=code, outcome="passed", by_id=by, by=f"user {by}", at=AT, **extra)


ATTESTED_OK = [
    passed("identity_confirmed"),
    passed("dose_double_checked", second_checker_id=PRESCRIBER, second_checker="prescriber"),
    passed("pregnancy_status"),
    passed("consent_on_file"),
]


def gate_codes(f: Facts, entries) -> list[str]:
    return [state.code for state in gate(f, entries)]


def test_nothing_blocks_when_the_record_and_the_clinicians_agree():
    assert gate_codes(facts(), ATTESTED_OK) == []


@pytest.mark.parametrize(
    "code",
    ["screening_valid", "no_new_contraindication", "weight_current", "pre_treatment_vitals"],
)
def test_a_derived_item_the_record_refutes_blocks(code):
    found = gate(facts(**{code: Derived(False, "not so")}), ATTESTED_OK)

    assert [(s.code, s.state, s.detail) for s in found] == [(code, "failed", "not so")]


@pytest.mark.parametrize(
    "code", ["identity_confirmed", "dose_double_checked", "pregnancy_status", "consent_on_file"]
)
def test_an_unanswered_attested_item_blocks(code):
    entries = [e for e in ATTESTED_OK if e.code != code]

    assert gate_codes(facts(), entries) == [code]


def test_a_clinician_cannot_tick_an_item_the_record_answers():
    entries = [*ATTESTED_OK, passed("screening_valid")]

    found = gate(facts(screening_valid=Derived(False, "expired")), entries)

    assert [(s.code, s.state) for s in found] == [("screening_valid", "failed")]


def test_fasting_is_read_from_the_record_or_confirmed_by_a_nurse():
    unknown = facts(fasting_confirmed=Derived(None, "ask the patient"))

    assert gate_codes(unknown, ATTESTED_OK) == ["fasting_confirmed"]
    assert gate_codes(unknown, [*ATTESTED_OK, passed("fasting_confirmed")]) == []


def test_the_dose_check_refuses_the_same_clinician_twice():
    same = passed("dose_double_checked", second_checker_id=NURSE)
    entries = [e for e in ATTESTED_OK if e.code != "dose_double_checked"] + [same]

    (state,) = gate(facts(), entries)

    assert (state.code, state.state) == ("dose_double_checked", "pending")
    assert "second, different clinician" in state.detail


def test_the_dose_check_needs_a_second_clinician_at_all():
    alone = passed("dose_double_checked")
    entries = [e for e in ATTESTED_OK if e.code != "dose_double_checked"] + [alone]

    assert gate_codes(facts(), entries) == ["dose_double_checked"]


def test_the_newest_answer_counts():
    not_met = Entry("consent_on_file", "failed", NURSE, note="form unsigned", at=AT)
    entries = [*ATTESTED_OK, not_met]

    (state,) = gate(facts(), entries)
    assert (state.code, state.detail) == ("consent_on_file", "form unsigned")
    assert gate_codes(facts(), [*entries, passed("consent_on_file", by=OTHER_NURSE)]) == []


def test_a_nurse_saying_not_met_overrules_the_patients_confirmation():
    entries = [*ATTESTED_OK, Entry("fasting_confirmed", "failed", NURSE, note="ate at 8")]

    assert gate_codes(facts(), entries) == ["fasting_confirmed"]


def test_a_prescriber_override_with_a_reason_clears_an_overridable_item():
    override = Entry(
        "weight_current", "overridden", PRESCRIBER, override_reason="weighed today on paper"
    )
    refuted = facts(weight_current=Derived(False, "weight 40 days old"))

    assert gate_codes(refuted, [*ATTESTED_OK, override]) == []
    state = next(s for s in states(refuted, [*ATTESTED_OK, override]) if s.code == "weight_current")
    assert (state.state, state.how) == ("overridden", "override")
    assert "weighed today on paper" in state.detail


def test_an_override_without_a_reason_does_not_count():
    override = Entry("weight_current", "overridden", PRESCRIBER, override_reason="  ")

    assert gate_codes(facts(weight_current=Derived(False, "old")), [*ATTESTED_OK, override]) == [
        "weight_current"
    ]


@pytest.mark.parametrize("code", ["rems_patient_enrolled", "rems_setting_certified"])
def test_esketamine_cannot_start_without_rems_and_no_override_helps(code):
    refuted = facts("esketamine", weight_based=False, **{code: Derived(False, "none on record")})
    override = Entry(code, "overridden", PRESCRIBER, override_reason="paperwork in the post")

    assert gate_codes(refuted, [*ATTESTED_OK, override]) == [code]


def test_rems_items_are_only_asked_for_esketamine():
    iv = {s.code: s.state for s in states(facts("iv"), ATTESTED_OK)}
    nasal = {s.code: s.state for s in states(facts("esketamine", weight_based=False), ATTESTED_OK)}

    assert iv["rems_patient_enrolled"] == iv["rems_setting_certified"] == "not_applicable"
    assert nasal["rems_patient_enrolled"] == nasal["rems_setting_certified"] == "passed"
    assert nasal["weight_current"] == "not_applicable"


def test_pregnancy_status_is_not_asked_when_it_is_not_relevant():
    entries = [e for e in ATTESTED_OK if e.code != "pregnancy_status"]

    assert gate_codes(facts(pregnancy=False), entries) == []
    assert gate_codes(facts(pregnancy=True), entries) == ["pregnancy_status"]


def test_identity_dose_check_and_consent_cannot_be_overridden():
    not_overridable = {item.code for item in DEFAULT_CHECKLIST.items if not item.overridable}

    assert not_overridable == {
        "identity_confirmed",
        "dose_double_checked",
        "consent_on_file",
        "rems_patient_enrolled",
        "rems_setting_certified",
    }


def test_every_item_names_its_source():
    assert all(item.source for item in DEFAULT_CHECKLIST.items)
    assert DEFAULT_CHECKLIST.source


def test_the_issue_items_are_all_there_in_order():
    assert [item.code for item in DEFAULT_CHECKLIST.items] == [
        "screening_valid",
        "no_new_contraindication",
        "identity_confirmed",
        "dose_double_checked",
        "weight_current",
        "fasting_confirmed",
        "ride_home_confirmed",
        "pre_treatment_vitals",
        "pregnancy_status",
        "phq9_today",
        "consent_on_file",
        "rems_patient_enrolled",
        "rems_setting_certified",
    ]


@pytest.mark.parametrize(
    ("mapping", "problem"),
    [
        (
            {
                "source": "x",
                "items": [{"code": "a", "label": "A", "mode": "guessed", "source": "s"}],
            },
            "mode 'guessed'",
        ),
        ({"source": "x", "items": [{"code": "a", "label": "A", "mode": "derived"}]}, "'source'"),
        (
            {
                "source": "x",
                "items": [
                    {"code": "a", "label": "A", "mode": "attested", "source": "s"},
                    {"code": "a", "label": "B", "mode": "attested", "source": "s"},
                ],
            },
            "unique",
        ),
        (
            {
                "source": "x",
                "items": [
                    {
                        "code": "a",
                        "label": "A",
                        "mode": "derived",
                        "source": "s",
                        "second_checker": True,
                    }
                ],
            },
            "attested",
        ),
        (
            {
                "source": "x",
                "items": [
                    {
                        "code": "a",
                        "label": "A",
                        "mode": "attested",
                        "source": "s",
                        "when": "full_moon",
                    }
                ],
            },
            "full_moon",
        ),
        ({"items": [{"code": "a", "label": "A", "mode": "attested", "source": "s"}]}, "'source'"),
    ],
)
def test_a_malformed_checklist_is_refused_with_the_item_and_key(mapping, problem):
    with pytest.raises(ChecklistError, match=problem):
        Checklist.from_mapping(mapping)


def test_an_unknown_outcome_is_refused():
    with pytest.raises(ChecklistError, match="outcome"):
        Entry("consent_on_file", "maybe", NURSE)


def test_applies_reads_route_and_condition():
    weight = DEFAULT_CHECKLIST.item("weight_current")

    assert applies(weight, facts(weight_based=True))
    assert not applies(weight, facts(weight_based=False))
