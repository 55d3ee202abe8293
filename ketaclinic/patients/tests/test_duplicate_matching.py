"""Two records name the same person when names and date of birth agree, case and accents aside."""

from __future__ import annotations

import datetime as dt

import pytest

from ketaclinic.patients.duplicates import Identity, matching, name_key, same_person

BORN = dt.date(1984, 3, 9)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("José", "Jose"),
        ("ÅSA", "åsa"),
        ("Núñez", "NUNEZ"),
        ("  Mary   Ann ", "mary ann"),
        ("Straße", "STRASSE"),
        ("Zoë", "Zoe\u0308"),  # precomposed and combining diaeresis
        ("Ｊｏｓｅ", "jose"),  # full-width letters fold by NFKD
    ],
)
def test_names_agree_ignoring_case_and_accents(typed, stored):
    assert name_key(typed) == name_key(stored)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("Jose", "Josef"), ("Ana", "Anna"), ("Lee", "Li"), ("Mary-Ann", "Mary Ann")],
)
def test_different_names_stay_different(typed, stored):
    assert name_key(typed) != name_key(stored)


def test_the_same_person_needs_both_names_and_the_date_of_birth():
    jose = Identity("José", "García", BORN)

    assert same_person(jose, Identity("JOSE", "garcia", BORN))
    assert not same_person(jose, Identity("José", "García", BORN + dt.timedelta(days=1)))
    assert not same_person(jose, Identity("García", "José", BORN))  # names swapped
    assert not same_person(jose, Identity("Josefa", "García", BORN))


def test_a_missing_date_of_birth_matches_no_one():
    assert not same_person(Identity("Asa", "Berg", None), Identity("Asa", "Berg", None))


def test_matching_lists_every_matching_record_in_order():
    existing = [
        (3, Identity("Åsa", "Berg", BORN)),
        (7, Identity("Asa", "Bergh", BORN)),
        (9, Identity("ASA", "BERG", BORN)),
    ]

    assert matching(Identity("åsa", "berg", BORN), existing) == [3, 9]
