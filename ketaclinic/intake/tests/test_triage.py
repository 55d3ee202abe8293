"""Staff triage: the queue's order, each step an event and an audit row, convert with the
duplicate check, and red flags."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.conftest import make_patient, signed_in
from ketaclinic.intake.models import TRANSITIONS, ConsultationRequest, Status, TriageEvent
from ketaclinic.intake.tests.makers import URL, make_request
from ketaclinic.patients.models import Patient

pytestmark = pytest.mark.django_db


def api_post(client, path, body):
    return client.post(f"{URL}/{path}", body, content_type="application/json")


def test_the_transition_table_names_every_status():
    assert set(TRANSITIONS) == set(Status.values)
    for targets in TRANSITIONS.values():
        assert targets <= set(Status.values)
    assert TRANSITIONS[Status.CONVERTED] == TRANSITIONS[Status.DECLINED] == frozenset()


def test_the_queue_lists_urgent_requests_first_then_the_longest_waiting(front_desk):
    now = timezone.now()
    old = make_request("Old", "Waiting", created_at=now - dt.timedelta(days=2))
    newer = make_request("New", "Comer", created_at=now - dt.timedelta(hours=1))
    urgent = make_request("Urgent", "Person", urgent=True, created_at=now)
    rows = signed_in(front_desk).get(URL).json()
    assert [row["id"] for row in rows] == [urgent.pk, old.pk, newer.pk]
    assert rows[0]["urgent"] is True
    assert AuditEvent.objects.filter(action="consultation_request.list").exists()


def test_the_queue_page_shows_urgent_first_with_plain_labels(front_desk):
    make_request("Calm", "Person")
    make_request("Urgent", "Person", urgent=True)
    page = signed_in(front_desk).get("/triage/").content.decode()
    assert page.index("Person, Urgent") < page.index("Person, Calm")
    assert "Urgent: suicidal thoughts" in page
    assert "Depression that has not improved" in page
    assert ">trd<" not in page


def test_closed_requests_leave_the_open_queue(front_desk):
    make_request("Done", "Already", status=Status.DECLINED, decline_reason="Out of area")
    open_one = make_request("Still", "Open")
    rows = signed_in(front_desk).get(URL).json()
    assert [row["id"] for row in rows] == [open_one.pk]
    closed = signed_in(front_desk).get(URL, {"status": "declined"}).json()
    assert len(closed) == 1


def test_a_step_is_stored_with_an_event_naming_who_and_an_audit_row(front_desk):
    consultation = make_request()
    response = api_post(
        signed_in(front_desk), f"{consultation.pk}/transition", {"status": "contacted"}
    )
    assert response.status_code == 200, response.content
    consultation.refresh_from_db()
    assert consultation.status == Status.CONTACTED
    event = TriageEvent.objects.filter(request=consultation).order_by("at", "id").last()
    assert (event.from_status, event.to_status, event.by) == ("new", "contacted", front_desk)
    audit = AuditEvent.objects.get(action="consultation_request.transition")
    assert audit.actor == front_desk
    assert audit.detail["to"] == "contacted"
    assert response.json()["events"][-1]["to_status"] == "contacted"


def test_a_step_the_table_does_not_allow_is_409_and_changes_nothing(front_desk):
    consultation = make_request(status=Status.DECLINED, decline_reason="Out of area")
    response = api_post(
        signed_in(front_desk), f"{consultation.pk}/transition", {"status": "contacted"}
    )
    assert response.status_code == 409
    assert "declined" in response.json()["message"]
    consultation.refresh_from_db()
    assert consultation.status == Status.DECLINED
    assert AuditEvent.objects.get(action="consultation_request.transition").outcome == (
        Outcome.REFUSED
    )


def test_declining_needs_a_reason(front_desk):
    consultation = make_request()
    client = signed_in(front_desk)
    response = api_post(client, f"{consultation.pk}/transition", {"status": "declined"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "reason"
    response = api_post(
        client, f"{consultation.pk}/transition", {"status": "declined", "reason": "Lives abroad"}
    )
    assert response.status_code == 200
    consultation.refresh_from_db()
    assert (consultation.status, consultation.decline_reason) == ("declined", "Lives abroad")


def test_converting_is_not_a_plain_step(front_desk):
    consultation = make_request()
    response = api_post(
        signed_in(front_desk), f"{consultation.pk}/transition", {"status": "converted"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "status"


def test_a_prescriber_notes_a_red_flag_shown_on_the_request(prescriber, front_desk):
    consultation = make_request()
    response = api_post(
        signed_in(prescriber), f"{consultation.pk}/red-flag", {"note": "Active psychosis mentioned"}
    )
    assert response.status_code == 200
    consultation.refresh_from_db()
    assert consultation.red_flag == "Active psychosis mentioned"
    assert consultation.red_flag_by == prescriber
    assert consultation.events.filter(kind="red_flag").exists()
    assert AuditEvent.objects.filter(action="consultation_request.red_flag").exists()
    page = signed_in(front_desk).get(f"/triage/{consultation.pk}/").content.decode()
    assert "Red flag" in page
    assert "Active psychosis mentioned" in page


def test_the_front_desk_may_not_note_a_red_flag(front_desk):
    consultation = make_request()
    response = api_post(signed_in(front_desk), f"{consultation.pk}/red-flag", {"note": "x"})
    assert response.status_code == 403
    consultation.refresh_from_db()
    assert consultation.red_flag == ""


def test_convert_creates_the_patient_with_the_answers_and_links_it(front_desk):
    consultation = make_request("Ivo", "Petrov", phone="555 010 1234", state_or_region="Ohio")
    response = api_post(signed_in(front_desk), f"{consultation.pk}/convert", {"sex": "male"})
    assert response.status_code == 201, response.content
    body = response.json()
    patient = Patient.objects.get(pk=body["patient_id"])
    assert (patient.given_name, patient.family_name) == ("Ivo", "Petrov")
    assert patient.date_of_birth == dt.date(1975, 1, 2)
    assert (patient.email, patient.phone, patient.region) == (
        "ivo@example.org",
        "555 010 1234",
        "Ohio",
    )
    assert patient.diagnoses.count() == 0  # their words are not a diagnosis
    consultation.refresh_from_db()
    assert consultation.status == Status.CONVERTED
    assert consultation.patient == patient
    assert (
        body["book_consultation_url"] == f"/calendar/patients/{patient.pk}/book/?type=consultation"
    )
    assert AuditEvent.objects.filter(action="patient.create", patient_id=patient.pk).exists()
    assert AuditEvent.objects.filter(
        action="consultation_request.transition", detail__to="converted"
    ).exists()


def test_convert_refuses_a_likely_duplicate_until_confirmed(front_desk):
    existing = make_patient("Ivo", "Petrov", date_of_birth=dt.date(1975, 1, 2))
    consultation = make_request("ivo", "PETROV")
    client = signed_in(front_desk)
    response = api_post(client, f"{consultation.pk}/convert", {})
    assert response.status_code == 409
    assert response.json()["candidates"] == [existing.pk]
    consultation.refresh_from_db()
    assert consultation.status == Status.NEW
    assert Patient.objects.count() == 1
    assert AuditEvent.objects.filter(action="patient.create", outcome=Outcome.REFUSED).exists()
    response = api_post(client, f"{consultation.pk}/convert", {"confirm_duplicate": True})
    assert response.status_code == 201
    assert Patient.objects.count() == 2


def test_the_convert_page_shows_the_match_and_create_anyway(front_desk):
    existing = make_patient("Ivo", "Petrov", date_of_birth=dt.date(1975, 1, 2))
    consultation = make_request("Ivo", "Petrov")
    client = signed_in(front_desk)
    response = client.post(f"/triage/{consultation.pk}/convert/", {"sex": "male"})
    assert response.status_code == 409
    page = response.content.decode()
    assert existing.mrn in page
    assert "Create anyway" in page
    response = client.post(
        f"/triage/{consultation.pk}/convert/",
        {"sex": "male", "confirm_duplicate": "True", "confirmed_id": str(existing.pk)},
    )
    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.patient_id not in (None, existing.pk)
    page = client.get(f"/triage/{consultation.pk}/").content.decode()
    assert "Book the consultation" in page
    assert f"/calendar/patients/{consultation.patient_id}/book/?type=consultation" in page


def test_the_booking_link_preselects_the_consultation(front_desk):
    from ketaclinic.scheduling.models import AppointmentType

    consultation = make_request()
    client = signed_in(front_desk)
    client.post(f"/triage/{consultation.pk}/convert/", {"sex": "female"})
    consultation.refresh_from_db()
    page = client.get(f"/calendar/patients/{consultation.patient_id}/book/?type=consultation")
    kind = AppointmentType.objects.get(code="consultation")
    assert f'<option value="{kind.pk}" selected>' in page.content.decode()


def test_a_closed_request_cannot_be_converted(front_desk):
    consultation = make_request(status=Status.DECLINED, decline_reason="No")
    response = api_post(signed_in(front_desk), f"{consultation.pk}/convert", {})
    assert response.status_code == 409
    assert Patient.objects.count() == 0


def test_patients_and_clinicians_without_triage_cannot_read_requests(patient_a, nurse):
    consultation = make_request()
    for user in (patient_a.user, nurse):
        client = signed_in(user)
        assert client.get(URL).status_code in (403, 404)
        assert client.get(f"{URL}/{consultation.pk}").status_code in (403, 404)
        assert client.get(f"/triage/{consultation.pk}/").status_code in (403, 404)


def test_a_missing_request_is_404_for_staff(front_desk):
    client = signed_in(front_desk)
    assert client.get(f"{URL}/999999").status_code == 404
    assert client.get("/triage/999999/").status_code == 404
    assert client.get(f"/triage/{2**64}/").status_code == 404


def test_the_detail_page_is_audited_as_a_read(front_desk):
    consultation = make_request()
    signed_in(front_desk).get(f"/triage/{consultation.pk}/")
    event = AuditEvent.objects.get(action="consultation_request.view")
    assert event.object_id == str(consultation.pk)
    assert ConsultationRequest.objects.get().status == Status.NEW


def test_the_queue_page_costs_the_same_queries_for_many_requests(front_desk):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = signed_in(front_desk)
    make_request("One", "Person", urgent=True)
    with CaptureQueriesContext(connection) as few:
        client.get("/triage/")
    for n in range(15):
        make_request(f"Person{n}", "Many", urgent=n % 3 == 0)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/triage/").status_code == 200
    assert len(many) == len(few)
    assert len(many) <= 12
