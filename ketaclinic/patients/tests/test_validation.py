"""Bad input is refused with a clear 422 that names the field; nothing of it is stored, and
the refusal is written to the audit trail with outcome ``invalid``.

Also the one way a wrong clinical entry is corrected: marking it entered-in-error, with a
reason, keeping the row.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.conftest import signed_in
from ketaclinic.patients import services
from ketaclinic.patients.models import Diagnosis, EntryStatus, Patient, WeightMeasurement


def today() -> dt.date:
    return timezone.localdate()


def post_json(client: Client, url: str, data: dict):
    return client.post(url, json.dumps(data), content_type="application/json")


def fields_named(response) -> list[str]:
    body = response.json()
    assert set(body) == {"message", "errors"}
    assert body["message"], "the summary must not be empty"
    return [error["field"] for error in body["errors"]]


def invalid_events(action: str):
    return AuditEvent.objects.filter(action=action, outcome=Outcome.INVALID).order_by("-seq")


def request_by(user, path: str = "/test/"):
    request = RequestFactory().post(path)
    request.user = user
    return request


NEW_PATIENT = {
    "given_name": "Cleo",
    "family_name": "Cruz",
    "date_of_birth": "1990-02-03",
    "sex": "female",
}


# --- Registering a patient through the API: refused by the record's rules ----------------------


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        pytest.param(
            {"date_of_birth": "tomorrow"},
            "date_of_birth",
            "Date of birth cannot be in the future.",
            id="born tomorrow",
        ),
        pytest.param(
            {"date_of_birth": "1850-01-01"},
            "date_of_birth",
            "Date of birth before 1900-01-01 is not plausible.",
            id="born in 1850",
        ),
        pytest.param(
            {"height_cm": "99.9"}, "height_cm", "Height must be 100–250 cm.", id="height 99.9 cm"
        ),
        pytest.param(
            {"height_cm": "250.1"},
            "height_cm",
            "Height must be 100–250 cm.",
            id="height 250.1 cm",
        ),
    ],
)
def test_registering_an_implausible_patient_is_refused_and_audited(
    nurse, outsider, change, field, message
):
    if change.get("date_of_birth") == "tomorrow":
        change = {"date_of_birth": (today() + dt.timedelta(days=1)).isoformat()}
    before = Patient.objects.count()

    response = post_json(signed_in(nurse), "/api/v1/patients", NEW_PATIENT | change)

    assert response.status_code == 422
    assert fields_named(response) == [field]
    assert response.json()["errors"][0]["message"] == message
    assert Patient.objects.count() == before
    event = invalid_events("patient.create").first()
    assert event.actor_id == nurse.pk
    assert event.detail == {"errors": {field: [message]}}


@pytest.mark.parametrize("height_cm", ["100", "250"])
def test_heights_at_the_limits_are_accepted(nurse, height_cm):
    response = post_json(
        signed_in(nurse), "/api/v1/patients", NEW_PATIENT | {"height_cm": height_cm}
    )

    assert response.status_code == 201


def test_a_patient_born_on_the_first_of_1900_is_accepted(nurse):
    response = post_json(
        signed_in(nurse), "/api/v1/patients", NEW_PATIENT | {"date_of_birth": "1900-01-01"}
    )

    assert response.status_code == 201


# --- Registering a patient through the API: refused by the request's shape ---------------------

MALFORMED = [
    pytest.param({"date_of_birth": "2023-02-30"}, ["date_of_birth"], id="30 February"),
    pytest.param({"date_of_birth": "17/05/1980"}, ["date_of_birth"], id="not ISO"),
    pytest.param({"sex": "robot"}, ["sex"], id="unknown sex"),
    pytest.param({"height_cm": "tall"}, ["height_cm"], id="height not a number"),
    pytest.param({"given_name": ""}, ["given_name"], id="blank given name"),
]


def without(*names: str) -> dict:
    return {key: value for key, value in NEW_PATIENT.items() if key not in names}


@pytest.mark.parametrize(("change", "fields"), MALFORMED)
def test_a_malformed_patient_is_refused_naming_the_field(nurse, change, fields):
    response = post_json(signed_in(nurse), "/api/v1/patients", NEW_PATIENT | change)

    assert response.status_code == 422
    assert fields_named(response) == fields
    assert not Patient.objects.exists()


def test_missing_required_fields_are_each_named(nurse):
    response = post_json(
        signed_in(nurse), "/api/v1/patients", without("given_name", "date_of_birth", "sex")
    )

    assert response.status_code == 422
    assert fields_named(response) == ["given_name", "date_of_birth", "sex"]
    assert not Patient.objects.exists()


@pytest.mark.parametrize(("change", "fields"), MALFORMED[:3])
def test_a_malformed_patient_leaves_an_invalid_audit_row(nurse, change, fields):
    post_json(signed_in(nurse), "/api/v1/patients", NEW_PATIENT | change)

    event = invalid_events("api.invalid").get()
    assert event.path == "/api/v1/patients"
    assert event.actor == nurse


# --- Changing demographics through the API ---------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"date_of_birth": "1850-01-01"}, "date_of_birth", id="born in 1850"),
        pytest.param({"height_cm": "260"}, "height_cm", id="height 260 cm"),
        pytest.param({"height_cm": "50"}, "height_cm", id="height 50 cm"),
    ],
)
def test_an_implausible_change_is_refused_and_nothing_changes(front_desk, patient_a, change, field):
    before = Patient.objects.filter(pk=patient_a.pk).values().get()

    response = post_json(signed_in(front_desk), f"/api/v1/patients/{patient_a.pk}", change)

    assert response.status_code == 422
    assert fields_named(response) == [field]
    assert Patient.objects.filter(pk=patient_a.pk).values().get() == before
    event = invalid_events("patient.change").first()
    assert event.patient_id == patient_a.pk
    assert list(event.detail["errors"]) == [field]
    assert not AuditEvent.objects.filter(action="patient.change", outcome=Outcome.SUCCESS)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"date_of_birth": "2023-02-30"}, "date_of_birth", id="30 February"),
        pytest.param({"sex": "robot"}, "sex", id="unknown sex"),
    ],
)
def test_a_malformed_change_is_refused_and_nothing_changes(front_desk, patient_a, change, field):
    before = Patient.objects.filter(pk=patient_a.pk).values().get()

    response = post_json(signed_in(front_desk), f"/api/v1/patients/{patient_a.pk}", change)

    assert response.status_code == 422
    assert fields_named(response) == [field]
    assert Patient.objects.filter(pk=patient_a.pk).values().get() == before


# --- Registering and editing a patient in the UI ---------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        pytest.param(
            {"date_of_birth": "1850-01-01"},
            "date_of_birth",
            "Date of birth before 1900-01-01 is not plausible.",
            id="born in 1850",
        ),
        pytest.param(
            {"height_cm": "99"}, "height_cm", "Height must be 100–250 cm.", id="height 99 cm"
        ),
        pytest.param(
            {"sex": "robot"},
            "sex",
            "Select a valid choice. robot is not one of the available choices.",
            id="unknown sex",
        ),
        pytest.param({"given_name": ""}, "given_name", "This field is required.", id="no name"),
    ],
)
def test_the_new_patient_form_shows_what_is_wrong_and_stores_nothing(
    front_desk, change, field, message
):
    response = signed_in(front_desk).post("/patients/new/", NEW_PATIENT | change)

    assert response.status_code in (200, 422)  # 422 is what the design asks; see below
    assert response.context["form"].errors[field] == [message]
    assert message in response.content.decode()
    assert not Patient.objects.exists()


@pytest.mark.parametrize("url", ["/patients/new/", "/patients/{pk}/edit/"])
def test_the_patient_forms_answer_422_for_bad_input(front_desk, patient_a, url):
    response = signed_in(front_desk).post(
        url.format(pk=patient_a.pk), NEW_PATIENT | {"date_of_birth": "1850-01-01"}
    )

    assert response.status_code == 422


# --- Weights through the API -----------------------------------------------------------------


def weight_cases():
    return [
        pytest.param("0", "2024-01-01", "weight_kg", "Weight must be 30–250 kg.", id="0 kg"),
        pytest.param("29.9", "2024-01-01", "weight_kg", "Weight must be 30–250 kg.", id="29.9 kg"),
        pytest.param(
            "250.1", "2024-01-01", "weight_kg", "Weight must be 30–250 kg.", id="250.1 kg"
        ),
        pytest.param("900", "2024-01-01", "weight_kg", "Weight must be 30–250 kg.", id="900 kg"),
        pytest.param(
            "70",
            "tomorrow",
            "measured_on",
            "A weight cannot be measured in the future.",
            id="measured tomorrow",
        ),
        pytest.param(
            "70",
            "1979-12-31",
            "measured_on",
            "A weight cannot be measured before birth.",
            id="measured before birth",
        ),
    ]


def measured(day: str) -> str:
    return (today() + dt.timedelta(days=1)).isoformat() if day == "tomorrow" else day


@pytest.mark.parametrize(("kg", "day", "field", "message"), weight_cases())
def test_an_implausible_weight_is_refused_through_the_api(
    nurse, patient_a, kg, day, field, message
):
    response = post_json(
        signed_in(nurse),
        f"/api/v1/patients/{patient_a.pk}/weights",
        {"weight_kg": kg, "measured_on": measured(day)},
    )

    assert response.status_code == 422
    assert fields_named(response) == [field]
    assert response.json()["errors"][0]["message"] == message
    assert not WeightMeasurement.objects.exists()
    event = invalid_events("weight.create").first()
    assert event.patient_id == patient_a.pk
    assert event.actor_id == nurse.pk
    assert event.detail == {"errors": {field: [message]}}


@pytest.mark.parametrize("kg", ["30", "250"])
def test_weights_at_the_limits_are_accepted(nurse, patient_a, kg):
    response = post_json(
        signed_in(nurse),
        f"/api/v1/patients/{patient_a.pk}/weights",
        {"weight_kg": kg, "measured_on": today().isoformat()},
    )

    assert response.status_code == 201


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"weight_kg": "1000", "measured_on": "2024-01-01"}, id="too many digits"),
        pytest.param({"weight_kg": "70.25", "measured_on": "2024-01-01"}, id="two decimals"),
        pytest.param({"weight_kg": "heavy", "measured_on": "2024-01-01"}, id="not a number"),
        pytest.param({"measured_on": "2024-01-01"}, id="missing"),
    ],
)
def test_a_malformed_weight_is_refused_naming_the_field(nurse, patient_a, payload):
    response = post_json(signed_in(nurse), f"/api/v1/patients/{patient_a.pk}/weights", payload)

    assert response.status_code == 422
    assert fields_named(response) == ["weight_kg"]
    assert not WeightMeasurement.objects.exists()


# --- Weights through the UI form -------------------------------------------------------------


@pytest.mark.parametrize(("kg", "day", "field", "message"), weight_cases())
def test_the_weight_form_answers_422_with_the_reason(nurse, patient_a, kg, day, field, message):
    response = signed_in(nurse).post(
        f"/patients/{patient_a.pk}/weights/add/", {"weight_kg": kg, "measured_on": measured(day)}
    )

    assert response.status_code == 422
    assert response.context["form"].errors[field] == [message]
    assert message in response.content.decode()
    assert not WeightMeasurement.objects.exists()


def test_a_refused_weight_form_leaves_an_invalid_audit_row(nurse, patient_a):
    signed_in(nurse).post(
        f"/patients/{patient_a.pk}/weights/add/", {"weight_kg": "900", "measured_on": "2024-01-01"}
    )

    assert invalid_events("weight.create").exists()


# --- Diagnoses: only codes the clinic records -------------------------------------------------


def test_the_diagnosis_form_refuses_an_unknown_icd10_code(prescriber, patient_a):
    response = signed_in(prescriber).post(
        f"/patients/{patient_a.pk}/diagnoses/add/", {"icd10_code": "Z99.999"}
    )

    assert response.status_code == 422
    message = "Select a valid choice. Z99.999 is not one of the available choices."
    assert response.context["form"].errors["icd10_code"] == [message]
    assert message in response.content.decode()
    assert not Diagnosis.objects.exists()


def test_the_diagnosis_form_accepts_a_known_code(prescriber, patient_a):
    response = signed_in(prescriber).post(
        f"/patients/{patient_a.pk}/diagnoses/add/", {"icd10_code": "F33.1"}
    )

    assert response.status_code == 302
    assert Diagnosis.objects.get().icd10_code == "F33.1"


def test_recording_an_unknown_icd10_code_is_refused_and_audited(prescriber, patient_a):
    entry = Diagnosis(patient=patient_a, icd10_code="Z99.999")

    with pytest.raises(ValidationError) as refused:
        services.entry_record(request=request_by(prescriber), entry=entry, kind="diagnosis")

    assert list(refused.value.message_dict) == ["icd10_code"]
    assert "Unknown ICD-10 code 'Z99.999'" in refused.value.message_dict["icd10_code"][0]
    assert not Diagnosis.objects.exists()
    event = invalid_events("diagnosis.create").first()
    assert event.patient_id == patient_a.pk
    assert list(event.detail["errors"]) == ["icd10_code"]


def test_a_diagnosis_with_onset_in_the_future_is_refused(prescriber, patient_a):
    response = signed_in(prescriber).post(
        f"/patients/{patient_a.pk}/diagnoses/add/",
        {"icd10_code": "F33.1", "onset_on": (today() + dt.timedelta(days=1)).isoformat()},
    )

    assert response.status_code == 422
    assert response.context["form"].errors["onset_on"] == ["Onset cannot be in the future."]
    assert not Diagnosis.objects.exists()


# --- Entered in error ------------------------------------------------------------------------


@pytest.fixture
def weights(patient_a, weight_of):
    """A good weight from last week and a mistyped one from today."""
    return weight_of(patient_a, "80.0", days_ago=7), weight_of(patient_a, "8.0", days_ago=0)


def mark_url(patient, entry) -> str:
    return f"/patients/{patient.pk}/weights/{entry.pk}/entered-in-error/"


def test_marking_a_weight_entered_in_error_keeps_it_with_the_reason(
    nurse, patient_a, weights, outsider
):
    good, wrong = weights
    assert patient_a.current_weight() == wrong

    response = signed_in(nurse).post(mark_url(patient_a, wrong), {"reason": "typed 8.0 for 80.0"})

    assert response.status_code == 302
    assert response["Location"] == f"/patients/{patient_a.pk}/tab/weights/"
    wrong.refresh_from_db()
    assert wrong.status == EntryStatus.ENTERED_IN_ERROR
    assert wrong.error_reason == "typed 8.0 for 80.0"
    assert wrong.weight_kg == Decimal("8.0"), "the row itself is kept as it was"
    assert WeightMeasurement.objects.filter(patient=patient_a).count() == 2

    event = AuditEvent.objects.get(action="weight.entered_in_error")
    assert event.outcome == Outcome.SUCCESS
    assert event.actor_id == nurse.pk
    assert event.patient_id == patient_a.pk
    assert (event.object_type, event.object_id) == ("WeightMeasurement", str(wrong.pk))
    assert event.detail == {
        "status": ["active", "entered-in-error"],
        "reason": "typed 8.0 for 80.0",
    }

    assert patient_a.current_weight() == good
    summary = signed_in(nurse).get(f"/patients/{patient_a.pk}/").content.decode()
    assert "80.0 kg" in summary

    assert signed_in(outsider).post(mark_url(patient_a, good), {"reason": "x"}).status_code == 404
    good.refresh_from_db()
    assert good.status == EntryStatus.ACTIVE


@pytest.mark.parametrize("data", [{}, {"reason": ""}, {"reason": "   "}])
def test_marking_without_a_reason_is_refused_and_changes_nothing(nurse, patient_a, weights, data):
    _, wrong = weights

    response = signed_in(nurse).post(mark_url(patient_a, wrong), data, follow=True)

    assert "Give a reason to mark the entry as entered in error." in response.content.decode()
    wrong.refresh_from_db()
    assert wrong.status == EntryStatus.ACTIVE
    assert wrong.error_reason == ""
    assert not AuditEvent.objects.filter(
        action="weight.entered_in_error", outcome=Outcome.SUCCESS
    ).exists()
    assert patient_a.current_weight() == wrong


def test_the_service_refuses_a_blank_reason_and_audits_it(nurse, patient_a, weights):
    _, wrong = weights

    with pytest.raises(ValidationError) as refused:
        services.entry_mark_in_error(
            request=request_by(nurse), entry=wrong, kind="weight", reason="  "
        )

    assert list(refused.value.message_dict) == ["reason"]
    wrong.refresh_from_db()
    assert wrong.status == EntryStatus.ACTIVE
    event = invalid_events("weight.entered_in_error").get()
    assert event.patient_id == patient_a.pk


def test_marking_twice_writes_one_audit_row(nurse, patient_a, weights):
    _, wrong = weights
    client = signed_in(nurse)

    client.post(mark_url(patient_a, wrong), {"reason": "typo"})
    client.post(mark_url(patient_a, wrong), {"reason": "still a typo"})

    wrong.refresh_from_db()
    assert wrong.error_reason == "typo"
    assert AuditEvent.objects.filter(action="weight.entered_in_error").count() == 1


def test_an_entry_of_another_patient_cannot_be_marked_through_this_chart(
    nurse, patient_a, patient_b, weight_of
):
    theirs = weight_of(patient_b, "90.0")

    response = signed_in(nurse).post(mark_url(patient_a, theirs), {"reason": "typo"})

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == EntryStatus.ACTIVE


def test_marking_needs_a_post(nurse, patient_a, weights):
    _, wrong = weights

    response = signed_in(nurse).get(mark_url(patient_a, wrong))

    assert response.status_code == 405
    wrong.refresh_from_db()
    assert wrong.status == EntryStatus.ACTIVE
