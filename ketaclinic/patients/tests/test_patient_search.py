"""The patient list's search reads names as people write them ("Family, Given") and phone
numbers whatever their formatting."""

from __future__ import annotations

import pytest

from ketaclinic.conftest import make_patient, signed_in
from ketaclinic.patients.models import Patient, phone_digits


def listed(response) -> list[int]:
    return [patient.pk for patient in response.context["page"]]


@pytest.fixture
def dana(db):
    return make_patient("Dana", "Okafor", phone="(617) 555-0123")


@pytest.fixture
def eli(db):
    return make_patient("Eli", "Okafor", phone="860-555-0150")


@pytest.mark.parametrize(
    "query", ["Okafor, Dana", "okafor,dana", "Okafor ,  Dana", "Dana Okafor", "Okafor, Da"]
)
def test_the_comma_form_family_given_finds_the_patient(nurse, dana, eli, query):
    response = signed_in(nurse).get("/patients/", {"q": query})

    assert response.status_code == 200
    assert listed(response) == [dana.pk]


@pytest.mark.parametrize(
    "query",
    [
        "(617) 555-0123",
        "617-555-0123",
        "6175550123",
        "617.555.0123",
        "617 555 0123",
        "+1 617 555 0123",
        "1-617-555-0123",
        "555-0123",
    ],
)
def test_a_phone_number_finds_the_patient_whatever_its_formatting(nurse, dana, eli, query):
    response = signed_in(nurse).get("/patients/", {"q": query})

    assert response.status_code == 200
    assert listed(response) == [dana.pk]


def test_a_stored_number_with_punctuation_is_found_by_its_digits(nurse, dana, eli):
    response = signed_in(nurse).get("/patients/", {"q": "8605550150"})

    assert listed(response) == [eli.pk]


def test_a_number_nobody_has_finds_nobody(nurse, dana, eli):
    response = signed_in(nurse).get("/patients/", {"q": "(212) 555-9999"})

    assert listed(response) == []


def test_a_date_of_birth_is_still_a_date_not_a_phone_number(nurse, patient_a, dana):
    response = signed_in(nurse).get("/patients/", {"q": "1980-05-17"})

    assert sorted(listed(response)) == sorted([patient_a.pk, dana.pk])


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("(617) 555-0123", "6175550123"),
        ("+1 (617) 555-0123", "6175550123"),
        ("555-0123", "5550123"),
        ("555-01", ""),  # too short to be a number rather than part of something else
        ("Okafor", ""),
        ("KC0001234", ""),
    ],
)
def test_what_reads_as_a_phone_number(text, digits):
    assert phone_digits(text) == digits


def test_an_mrn_names_its_patient_in_any_case(db, dana):
    assert Patient.objects.id_for_mrn(dana.mrn.lower()) == dana.pk
    assert Patient.objects.id_for_mrn("KC9999999x") is None
