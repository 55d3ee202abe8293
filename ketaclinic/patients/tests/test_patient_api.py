"""The patient API at /api/v1/patients: listing, registering, changing demographics, weights,
and who may call it (bearer tokens, signed-in sessions with CSRF)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory
from django.utils import timezone

from ketaclinic.accounts.models import ApiToken
from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.conftest import make_patient, signed_in
from ketaclinic.patients import services
from ketaclinic.patients.models import EntryStatus, Patient, Sex, WeightMeasurement


def post_json(client: Client, url: str, data: dict, **extra):
    return client.post(url, json.dumps(data), content_type="application/json", **extra)


def last_event(action: str) -> AuditEvent | None:
    return AuditEvent.objects.filter(action=action).order_by("-seq").first()


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()]


# --- Listing -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["prescriber", "front_desk"])
def test_staff_see_every_patient(cast, patient_a, patient_b, role):
    response = signed_in(cast[role]).get("/api/v1/patients")

    assert response.status_code == 200
    # Ordered by family name: Alvarez before Brooks.
    assert ids(response) == [patient_a.pk, patient_b.pk]
    event = last_event("patient.list")
    assert event.actor_id == cast[role].pk
    assert event.detail == {"q": "", "offset": 0, "limit": 50}


@pytest.mark.parametrize(
    ("query", "who"),
    [
        ("brooks", "patient_b"),
        ("BEN", "patient_b"),
        ("ada alvarez", "patient_a"),
        ("1980-05-17", "both"),
        ("1975-01-02", "carol"),
        ("nobody", "none"),
    ],
)
def test_search_finds_patients_by_name_or_date_of_birth(
    prescriber, patient_a, patient_b, query, who
):
    carol = make_patient("Carol", "Chen", date_of_birth=dt.date(1975, 1, 2))
    expected = {
        "patient_a": [patient_a.pk],
        "patient_b": [patient_b.pk],
        "both": [patient_a.pk, patient_b.pk],
        "carol": [carol.pk],
        "none": [],
    }[who]

    response = signed_in(prescriber).get("/api/v1/patients", {"q": query})

    assert response.status_code == 200
    assert ids(response) == expected


def test_search_finds_a_patient_by_mrn(prescriber, patient_a, patient_b):
    response = signed_in(prescriber).get("/api/v1/patients", {"q": patient_b.mrn.lower()})

    assert ids(response) == [patient_b.pk]


def test_the_list_pages_with_offset_and_limit(prescriber, patient_a, patient_b):
    client = signed_in(prescriber)

    assert ids(client.get("/api/v1/patients", {"limit": 1})) == [patient_a.pk]
    assert ids(client.get("/api/v1/patients", {"limit": 1, "offset": 1})) == [patient_b.pk]


def test_a_page_larger_than_the_maximum_is_refused(prescriber):
    response = signed_in(prescriber).get("/api/v1/patients", {"limit": 201})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "limit"


def test_a_patient_sees_only_their_own_record(patient_a, patient_b):
    response = signed_in(patient_a.user).get("/api/v1/patients", {"q": "brooks"})

    assert response.status_code == 200
    assert ids(response) == [patient_a.pk]
    assert last_event("patient.list").detail == {"scope": "own"}


# --- Registering -----------------------------------------------------------------------------

NEW_PATIENT = {
    "given_name": "Cleo",
    "family_name": "Cruz",
    "preferred_name": "Cee",
    "date_of_birth": "1990-02-03",
    "sex": "female",
    "email": "cleo@example.org",
    "phone": "555-0100",
    "height_cm": "172.5",
}


def test_registering_a_patient_answers_201_and_stores_it(nurse, outsider):
    response = post_json(signed_in(nurse), "/api/v1/patients", NEW_PATIENT)

    assert response.status_code == 201
    body = response.json()
    patient = Patient.objects.get(pk=body["id"])
    assert body["mrn"] == patient.mrn
    assert patient.mrn.startswith("KC")
    assert (patient.given_name, patient.family_name) == ("Cleo", "Cruz")
    assert patient.date_of_birth.isoformat() == "1990-02-03"
    assert patient.sex == Sex.FEMALE
    assert str(patient.height_cm) == "172.5"
    assert patient.created_by == nurse

    event = last_event("patient.create")
    assert event.outcome == Outcome.SUCCESS
    assert event.actor_id == nurse.pk
    assert event.patient_id == patient.pk
    assert (event.object_type, event.object_id) == ("Patient", str(patient.pk))
    fields = event.detail["fields"]
    assert fields["given_name"] == "Cleo"
    assert fields["family_name"] == "Cruz"
    assert fields["date_of_birth"] == "1990-02-03"
    assert fields["email"] == "cleo@example.org"
    assert fields["height_cm"] == "172.5"

    assert signed_in(outsider).get(f"/api/v1/patients/{patient.pk}").status_code == 404


def test_every_new_patient_gets_a_different_mrn(nurse):
    client = signed_in(nurse)

    mrns = {
        post_json(client, "/api/v1/patients", NEW_PATIENT | {"confirm_duplicate": True}).json()[
            "mrn"
        ]
        for _ in range(5)
    }

    assert len(mrns) == 5


# --- Reading and changing one patient --------------------------------------------------------


def test_reading_a_patient_is_audited_as_a_view(nurse, patient_a, outsider):
    response = signed_in(nurse).get(f"/api/v1/patients/{patient_a.pk}")

    assert response.status_code == 200
    assert response.json()["mrn"] == patient_a.mrn
    event = last_event("patient.view")
    assert (event.patient_id, event.detail) == (patient_a.pk, {"section": "api"})

    response = signed_in(outsider).get(f"/api/v1/patients/{patient_a.pk}")
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "errors": []}


def test_changing_demographics_stores_them_and_audits_old_and_new(front_desk, patient_a, outsider):
    url = f"/api/v1/patients/{patient_a.pk}"

    response = post_json(
        signed_in(front_desk),
        url,
        {"family_name": "Alvarez-Reyes", "phone": "555-0199", "date_of_birth": "1980-05-18"},
    )

    assert response.status_code == 200
    assert response.json()["family_name"] == "Alvarez-Reyes"
    patient_a.refresh_from_db()
    assert patient_a.family_name == "Alvarez-Reyes"
    assert patient_a.phone == "555-0199"
    assert patient_a.date_of_birth.isoformat() == "1980-05-18"
    assert patient_a.given_name == "Ada", "fields not sent are left alone"

    event = last_event("patient.change")
    assert event.outcome == Outcome.SUCCESS
    assert event.actor_id == front_desk.pk
    assert event.patient_id == patient_a.pk
    assert event.detail == {
        "changes": {
            "family_name": ["Alvarez", "Alvarez-Reyes"],
            "phone": ["", "555-0199"],
            "date_of_birth": ["1980-05-17", "1980-05-18"],
        }
    }

    assert post_json(signed_in(outsider), url, {"family_name": "X"}).status_code == 404
    patient_a.refresh_from_db()
    assert patient_a.family_name == "Alvarez-Reyes"


def test_sending_the_same_values_writes_no_change(front_desk, patient_a):
    response = post_json(
        signed_in(front_desk), f"/api/v1/patients/{patient_a.pk}", {"given_name": "Ada"}
    )

    assert response.status_code == 200
    assert last_event("patient.change") is None


def test_a_blank_name_is_refused(front_desk, patient_a):
    response = post_json(
        signed_in(front_desk), f"/api/v1/patients/{patient_a.pk}", {"given_name": ""}
    )

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["given_name"]
    patient_a.refresh_from_db()
    assert patient_a.given_name == "Ada"
    assert last_event("patient.change") is None


@pytest.mark.parametrize("field", ["given_name", "family_name", "date_of_birth", "sex"])
def test_clearing_a_required_field_is_refused_and_audited(front_desk, patient_a, field):
    before = Patient.objects.filter(pk=patient_a.pk).values().get()

    response = post_json(signed_in(front_desk), f"/api/v1/patients/{patient_a.pk}", {field: None})

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": field, "message": "may not be null: the record needs a value"}
    ]
    assert Patient.objects.filter(pk=patient_a.pk).values().get() == before
    assert last_event("patient.change") is None
    event = last_event("api.invalid")  # refused by the schema, before the record is touched
    assert event.outcome == Outcome.INVALID
    assert [e["field"] for e in event.detail["errors"]] == [field]


def test_the_mrn_cannot_be_changed_through_the_api(front_desk, patient_a):
    mrn = patient_a.mrn

    post_json(signed_in(front_desk), f"/api/v1/patients/{patient_a.pk}", {"mrn": "KC0000001"})

    patient_a.refresh_from_db()
    assert patient_a.mrn == mrn


def test_an_unknown_field_is_refused_not_silently_ignored(front_desk, patient_a):
    response = post_json(
        signed_in(front_desk), f"/api/v1/patients/{patient_a.pk}", {"famly_name": "Reyes"}
    )

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["famly_name"]


def test_the_service_refuses_fields_that_are_not_demographics(front_desk, patient_a):
    request = RequestFactory().post(f"/api/v1/patients/{patient_a.pk}")
    request.user = front_desk

    with pytest.raises(ValidationError) as refused:
        services.patient_update(
            request=request, patient=patient_a, changes={"mrn": "KC0000001", "user": None}
        )

    assert set(refused.value.message_dict) == {"mrn", "user"}
    patient_a.refresh_from_db()
    assert patient_a.mrn != "KC0000001"
    event = last_event("patient.change")
    assert event.outcome == Outcome.INVALID
    assert set(event.detail["errors"]) == {"mrn", "user"}


def test_a_record_without_a_recorded_creator_can_still_be_changed(front_desk, patient_a):
    assert patient_a.created_by is None

    response = post_json(
        signed_in(front_desk), f"/api/v1/patients/{patient_a.pk}", {"preferred_name": "Addy"}
    )

    assert response.status_code == 200
    patient_a.refresh_from_db()
    assert patient_a.preferred_name == "Addy"


# --- Weights ---------------------------------------------------------------------------------


def test_weights_are_listed_newest_first_with_their_status(
    therapist, patient_a, weight_of, outsider
):
    old = weight_of(patient_a, "80.0", days_ago=60)
    wrong = weight_of(patient_a, "8.0", days_ago=30)
    new = weight_of(patient_a, "78.5", days_ago=1)
    WeightMeasurement.objects.filter(pk=wrong.pk).update(
        status=EntryStatus.ENTERED_IN_ERROR, error_reason="typo"
    )
    url = f"/api/v1/patients/{patient_a.pk}/weights"

    response = signed_in(therapist).get(url)

    assert response.status_code == 200
    rows = response.json()
    assert [row["id"] for row in rows] == [new.pk, wrong.pk, old.pk]
    assert [row["status"] for row in rows] == ["active", "entered-in-error", "active"]
    assert rows[0]["weight_kg"] == "78.5"
    assert rows[0]["recorded_by"] == "nurse"
    event = last_event("patient.view")
    assert (event.patient_id, event.detail) == (patient_a.pk, {"section": "api.weights"})

    assert signed_in(outsider).get(url).status_code == 404


def test_a_patient_reads_their_own_weights(patient_a, patient_b, weight_of):
    weight_of(patient_a, "70.0")

    client = signed_in(patient_a.user)

    assert len(client.get(f"/api/v1/patients/{patient_a.pk}/weights").json()) == 1
    assert client.get(f"/api/v1/patients/{patient_b.pk}/weights").status_code == 404


def test_recording_a_weight_answers_201_and_stores_it(prescriber, patient_a, outsider):
    url = f"/api/v1/patients/{patient_a.pk}/weights"

    response = post_json(
        signed_in(prescriber), url, {"weight_kg": "72.5", "measured_on": "2024-03-01"}
    )

    assert response.status_code == 201
    body = response.json()
    entry = WeightMeasurement.objects.get(pk=body["id"])
    assert str(entry.weight_kg) == "72.5"
    assert entry.measured_on.isoformat() == "2024-03-01"
    assert entry.recorded_by == prescriber
    assert entry.status == EntryStatus.ACTIVE
    assert body["recorded_by"] == "prescriber"

    event = last_event("weight.create")
    assert event.outcome == Outcome.SUCCESS
    assert event.patient_id == patient_a.pk
    assert (event.object_type, event.object_id) == ("WeightMeasurement", str(entry.pk))
    assert event.detail == {"entry": "72.5 kg on 2024-03-01"}

    response = post_json(signed_in(outsider), url, {"weight_kg": "60", "measured_on": "2024-03-01"})
    assert response.status_code == 404
    assert WeightMeasurement.objects.filter(patient=patient_a).count() == 1


def test_front_desk_cannot_record_a_weight(front_desk, patient_a):
    response = post_json(
        signed_in(front_desk),
        f"/api/v1/patients/{patient_a.pk}/weights",
        {"weight_kg": "72.5", "measured_on": "2024-03-01"},
    )

    assert response.status_code == 403
    assert "weight.record" in response.json()["message"]
    assert not WeightMeasurement.objects.exists()


# --- Bearer tokens ---------------------------------------------------------------------------


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_a_bearer_token_authenticates_its_user(nurse, patient_a):
    token, raw = ApiToken.issue(nurse, "test")

    response = Client().get("/api/v1/patients", **bearer(raw))

    assert response.status_code == 200
    assert ids(response) == [patient_a.pk]
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert last_event("patient.list").actor_id == nurse.pk


def test_a_token_is_stored_only_as_its_hash(nurse):
    token, raw = ApiToken.issue(nurse, "test")

    assert raw.startswith("kc_")
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert token.prefix == raw[:10]
    assert not ApiToken.objects.filter(key_hash=raw).exists()


def test_a_token_writes_without_csrf(nurse, patient_a):
    _, raw = ApiToken.issue(nurse, "test")
    client = Client(enforce_csrf_checks=True)

    response = post_json(
        client,
        f"/api/v1/patients/{patient_a.pk}/weights",
        {"weight_kg": "72.5", "measured_on": "2024-03-01"},
        **bearer(raw),
    )

    assert response.status_code == 201
    assert WeightMeasurement.objects.get().recorded_by == nurse


def test_a_token_carries_only_its_users_role(front_desk, patient_a):
    _, raw = ApiToken.issue(front_desk, "test")

    response = Client().get(f"/api/v1/patients/{patient_a.pk}/weights", **bearer(raw))

    assert response.status_code == 403


def test_a_revoked_token_is_refused(nurse, patient_a):
    token, raw = ApiToken.issue(nurse, "test")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])

    response = Client().get("/api/v1/patients", **bearer(raw))

    assert response.status_code == 401
    assert response.json() == {"message": "Sign in or send a valid bearer token.", "errors": []}
    assert last_event("patient.list") is None
    assert last_event("auth.token_refused").outcome == Outcome.REFUSED


def test_a_token_of_a_deactivated_user_is_refused(nurse, patient_a):
    _, raw = ApiToken.issue(nurse, "test")
    nurse.is_active = False
    nurse.save(update_fields=["is_active"])

    response = Client().get("/api/v1/patients", **bearer(raw))

    assert response.status_code == 401


def test_a_garbage_token_is_refused_and_the_refusal_audited(db):
    response = Client().get("/api/v1/patients", **bearer("kc_not-a-real-token"))

    assert response.status_code == 401
    event = last_event("auth.token_refused")
    assert event.outcome == Outcome.REFUSED
    assert event.actor_id is None
    assert event.path == "/api/v1/patients"


def test_no_credentials_at_all_answer_401(db):
    response = Client().get("/api/v1/patients")

    assert response.status_code == 401
    assert set(response.json()) == {"message", "errors"}


# --- Signed-in sessions and CSRF ------------------------------------------------------------


def session_with_csrf_checks(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_a_session_post_without_csrf_is_refused(nurse, patient_a):
    client = session_with_csrf_checks(nurse)

    response = post_json(
        client,
        f"/api/v1/patients/{patient_a.pk}/weights",
        {"weight_kg": "72.5", "measured_on": "2024-03-01"},
    )

    assert response.status_code == 403
    assert not WeightMeasurement.objects.exists()
    assert last_event("weight.create") is None


def test_a_session_post_with_the_csrf_token_is_accepted(nurse, patient_a):
    client = session_with_csrf_checks(nurse)
    client.get("/patients/")  # any page with a form sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value

    response = post_json(
        client,
        f"/api/v1/patients/{patient_a.pk}/weights",
        {"weight_kg": "72.5", "measured_on": "2024-03-01"},
        HTTP_X_CSRFTOKEN=csrf,
    )

    assert response.status_code == 201
    assert WeightMeasurement.objects.get().recorded_by == nurse


def test_a_session_read_needs_no_csrf(nurse, patient_a):
    response = session_with_csrf_checks(nurse).get("/api/v1/patients")

    assert response.status_code == 200


def test_a_csrf_refusal_uses_the_api_error_shape(nurse, patient_a):
    response = post_json(
        session_with_csrf_checks(nurse),
        f"/api/v1/patients/{patient_a.pk}/weights",
        {"weight_kg": "72.5", "measured_on": "2024-03-01"},
    )

    assert set(response.json()) == {"message", "errors"}
