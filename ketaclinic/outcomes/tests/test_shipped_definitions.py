"""The instrument definitions that ship are complete, sourced and honest about what is unverified."""

from __future__ import annotations

import pytest

from ketaclinic.outcomes.definitions import (
    INSTRUMENTS_DIR,
    UnknownInstrumentError,
    get_instrument,
    shipped_instruments,
)

SHIPPED = ["phq9", "gad7", "pcl5", "qids_sr16", "madrs", "pain_nrs", "dissociation_nrs"]


def test_every_expected_instrument_ships_and_nothing_else():
    assert sorted(shipped_instruments()) == sorted(SHIPPED)


def test_the_c_ssrs_is_not_shipped():
    # REFERENCE.md §5: electronic use needs a licence; a licensed clinic loads it itself.
    assert not any("ssrs" in path.name.lower() for path in INSTRUMENTS_DIR.iterdir())
    assert not any("ssrs" in code for code in shipped_instruments())


@pytest.mark.parametrize("code", SHIPPED)
def test_every_definition_names_its_source_licence_and_rater(code):
    instrument = get_instrument(code)
    assert "REFERENCE.md" in instrument.source
    assert instrument.licence
    assert instrument.rater in {"patient", "clinician"}
    assert instrument.scoring.source
    assert all(flag.source for flag in instrument.flags)
    assert instrument.outcome.response is None or instrument.outcome.response.source
    assert all(rule.source for rule in instrument.outcome.remission)


@pytest.mark.parametrize(
    ("code", "items", "total_max", "rater"),
    [
        ("phq9", 9, 27, "patient"),
        ("gad7", 7, 21, "patient"),
        ("pcl5", 20, 80, "patient"),
        ("qids_sr16", 16, 27, "patient"),
        ("madrs", 10, 60, "clinician"),
        ("pain_nrs", 1, 10, "patient"),
        ("dissociation_nrs", 1, 10, "clinician"),
    ],
)
def test_item_counts_ranges_and_raters_match_the_reference(code, items, total_max, rater):
    instrument = get_instrument(code)
    assert len(instrument.items) == items
    assert (instrument.total_min, instrument.total_max) == (0, total_max)
    assert instrument.rater == rater


@pytest.mark.parametrize(
    ("code", "bands"),
    [
        ("phq9", ["minimal", "mild", "moderate", "moderately_severe", "severe"]),
        ("gad7", ["minimal", "mild", "moderate", "severe"]),
        ("qids_sr16", ["none", "mild", "moderate", "severe", "very_severe"]),
        ("madrs", ["normal", "mild", "moderate", "severe"]),
        ("pcl5", ["below_threshold", "probable_ptsd"]),
        ("pain_nrs", []),
        ("dissociation_nrs", []),
    ],
)
def test_band_codes_are_the_stable_vocabulary(code, bands):
    assert [band.code for band in get_instrument(code).bands] == bands


def test_the_pcl5_cut_point_defaults_to_33_and_documents_the_31_to_33_range():
    probable = get_instrument("pcl5").band_for(33)
    assert probable.code == "probable_ptsd"
    assert probable.min_total == 33
    assert "31–33" in probable.note
    assert get_instrument("pcl5").band_for(32).code == "below_threshold"


@pytest.mark.parametrize(
    ("code", "verified"),
    [
        ("phq9", True),
        ("gad7", True),
        ("pcl5", True),
        ("qids_sr16", False),
        ("madrs", False),
        ("pain_nrs", False),
        ("dissociation_nrs", False),
    ],
)
def test_item_wording_is_marked_unverified_where_it_is_a_paraphrase(code, verified):
    assert get_instrument(code).item_text_verified is verified


def test_phq9_item_9_keeps_its_published_wording():
    assert get_instrument("phq9").item(9).text == (
        "Thoughts that you would be better off dead or of hurting yourself in some way"
    )


@pytest.mark.parametrize(
    ("code", "codes"),
    [
        ("phq9", {"panel": "44249-1", "total": "44261-6"}),
        ("gad7", {"panel": "69737-5", "total": "70274-6"}),
    ],
)
def test_loinc_codes_ship_marked_for_verification(code, codes):
    loinc = get_instrument(code).loinc
    assert {entry.role: entry.code for entry in loinc} == codes
    assert all(not entry.verified and "verify" in entry.note for entry in loinc)


def test_instruments_without_reference_loinc_codes_carry_none():
    assert all(not get_instrument(code).loinc for code in SHIPPED if code not in {"phq9", "gad7"})


def test_the_cadss6_is_offered_as_a_clinic_definition_with_only_its_sourced_items():
    (cadss6,) = get_instrument("dissociation_nrs").alternatives
    assert cadss6.code == "cadss6"
    assert cadss6.source_items == (1, 2, 6, 7, 15, 22)
    assert "[U]" in cadss6.note


def test_madrs_keeps_both_remission_definitions_with_the_primary_first():
    rules = get_instrument("madrs").outcome.remission
    assert [(rule.code, rule.at_most) for rule in rules] == [
        ("remission_le_10", 10),
        ("remission_le_12", 12),
    ]


def test_an_unknown_instrument_code_raises_a_lookup_error():
    with pytest.raises(UnknownInstrumentError):
        get_instrument("beck")
