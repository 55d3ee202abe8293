"""Dosing visits need an active signed plan of their route; a prescriber may override with an
audited reason. Consultations, therapy and follow-ups need no plan. A course is booked from
the plan's planned sessions; other dates need a prescriber's override."""

from __future__ import annotations

import datetime as dt

import pytest

from ketaclinic.audit.models import AuditEvent
from ketaclinic.conftest import make_patient, signed_in
from ketaclinic.scheduling.models import Appointment, AppointmentEvent, clinic_datetime

from .conftest import INDUCTION, MONDAY, signed_plan

NINE = clinic_datetime(MONDAY, dt.time(9))


def book(client, patient, kind: str = "iv_infusion", when: dt.datetime = NINE, **extra):
    body = {"patient_id": patient.pk, "type": kind, "starts_at": when.isoformat()} | extra
    return client.post("/api/v1/appointments", body, content_type="application/json")


def book_course(client, patient, body: dict):
    return client.post(
        f"/api/v1/patients/{patient.pk}/courses", body, content_type="application/json"
    )


@pytest.fixture
def unplanned(db):
    return make_patient("Noplan", "Yet")


def test_an_infusion_without_a_signed_plan_is_refused_saying_what_is_missing(
    calendar, front_desk, unplanned
):
    response = book(signed_in(front_desk), unplanned)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "plan"
    assert error["message"].startswith(
        "No active signed treatment plan for IV ketamine: sign a plan before booking infusions."
    )
    assert not Appointment.objects.exists()
    refused = AuditEvent.objects.get(action="appointment.book", outcome="refused")
    assert refused.patient_id == unplanned.pk
    assert refused.detail["rule"] == "plan"


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("im_injection", "IM ketamine: sign a plan before booking injections"),
        ("esketamine", "esketamine: sign a plan before booking esketamine sessions"),
    ],
)
def test_every_dosing_route_needs_its_plan(calendar, front_desk, unplanned, kind, words):
    response = book(signed_in(front_desk), unplanned, kind)
    assert response.status_code == 422
    assert words in response.json()["errors"][0]["message"]


def test_a_draft_plan_is_not_enough(calendar, front_desk, unplanned, prescriber):
    plan = signed_plan(unplanned, prescriber)
    plan.status = "draft"
    plan.save(update_fields=["status"])
    assert book(signed_in(front_desk), unplanned).status_code == 422


def test_a_plan_of_another_route_is_refused_naming_both(
    calendar, front_desk, unplanned, prescriber
):
    signed_plan(unplanned, prescriber, route="esketamine")
    response = book(signed_in(front_desk), unplanned, "iv_infusion")
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "plan"
    assert "The active signed plan is for Esketamine nasal spray" in error["message"]
    assert "not IV ketamine" in error["message"]


@pytest.mark.parametrize("kind", ["consultation", "follow_up", "integration_therapy"])
def test_visits_that_give_no_drug_need_no_plan(calendar, front_desk, unplanned, kind):
    assert book(signed_in(front_desk), unplanned, kind).status_code == 201


def test_a_prescriber_overrides_with_a_reason_that_is_kept_and_audited(
    calendar, prescriber, unplanned
):
    reason = "Plan signed on paper during the network outage; entered tomorrow."
    response = book(signed_in(prescriber), unplanned, override_reason=reason)
    assert response.status_code == 201
    booked = Appointment.objects.get(pk=response.json()["id"])
    [override] = AppointmentEvent.objects.get(appointment=booked, kind="booked").detail["overrides"]
    assert override["rule"] == "plan"
    assert override["reason"] == reason
    assert "No active signed treatment plan" in override["missing"]
    audit = AuditEvent.objects.get(action="appointment.book", outcome="success")
    assert audit.detail["overrides"][0]["reason"] == reason
    assert audit.actor == prescriber


def test_a_blank_override_reason_does_not_override(calendar, prescriber, unplanned):
    response = book(signed_in(prescriber), unplanned, override_reason="   ")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "plan"


def test_only_a_prescriber_may_override(calendar, front_desk, nurse, unplanned):
    for user in (front_desk, nurse):
        response = book(signed_in(user), unplanned, override_reason="I am sure")
        assert response.status_code == 422
        [error] = response.json()["errors"]
        assert error["field"] == "override_reason"
        assert error["message"].startswith("Only a prescriber may override this")
    assert not Appointment.objects.exists()


def test_the_course_is_booked_from_the_plan_without_typing_dates(calendar, front_desk, patients):
    response = book_course(signed_in(front_desk), patients[0], {})
    assert response.status_code == 201
    plan = patients[0].plans.get()
    booked = Appointment.objects.filter(patient=patients[0]).order_by("course_number")
    assert [(a.course_number, a.local_start.date()) for a in booked] == [
        (s.number, s.date) for s in plan.planned_sessions.order_by("number")
    ]
    assert {a.type.code for a in booked} == {"iv_infusion"}
    assert {a.course_key for a in booked} == {f"plan-{plan.pk}"}


def test_booking_the_plan_again_offers_only_the_sessions_still_to_book(
    calendar, front_desk, patients
):
    client = signed_in(front_desk)
    visits = [{"number": n, "date": str(d)} for n, d in enumerate(INDUCTION[:2], start=1)]
    assert book_course(client, patients[0], {"visits": visits}).status_code == 201
    response = book_course(client, patients[0], {})
    assert response.status_code == 201
    assert [v["course_number"] for v in response.json()] == [3, 4, 5, 6]


def test_a_course_without_a_plan_is_refused(calendar, front_desk, unplanned):
    response = book_course(signed_in(front_desk), unplanned, {})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "visits"
    typed = [{"number": 1, "date": str(INDUCTION[0])}]
    response = book_course(
        signed_in(front_desk), unplanned, {"type": "iv_infusion", "visits": typed}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "plan"
    assert not Appointment.objects.exists()


def test_dates_other_than_the_plans_need_a_prescribers_override(
    calendar, front_desk, prescriber, patients
):
    moved = [INDUCTION[0], INDUCTION[1] + dt.timedelta(days=1), *INDUCTION[2:]]
    visits = [{"number": n, "date": str(d)} for n, d in enumerate(moved, start=1)]
    refused = book_course(signed_in(front_desk), patients[0], {"visits": visits})
    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert error["field"] == "visits"
    assert "visit 2 on Thu 04 Mar 2027 (the plan has it on Wed 03 Mar 2027)" in error["message"]
    assert not Appointment.objects.exists()

    reason = "Patient works Wednesdays in March; agreed by phone."
    body = {"visits": visits, "override_reason": reason}
    booked = book_course(signed_in(prescriber), patients[0], body)
    assert booked.status_code == 201
    second = Appointment.objects.get(patient=patients[0], course_number=2)
    assert second.local_start.date() == moved[1]
    [override] = second.events.get(kind="booked").detail["overrides"]
    assert (override["rule"], override["reason"]) == ("visits", reason)
    assert not second.course_key.startswith("plan-")


def test_more_visits_than_the_plan_proposes_need_an_override(calendar, front_desk, patients):
    extra = [*INDUCTION, INDUCTION[-1] + dt.timedelta(days=2)]
    visits = [{"number": n, "date": str(d)} for n, d in enumerate(extra, start=1)]
    response = book_course(signed_in(front_desk), patients[0], {"visits": visits})
    assert response.status_code == 422
    assert "visit 7" in response.json()["errors"][0]["message"]
    assert "the plan has no such session" in response.json()["errors"][0]["message"]


def test_the_book_a_course_page_proposes_the_plans_sessions(calendar, front_desk, patients):
    client = signed_in(front_desk)
    page = client.get(f"/calendar/patients/{patients[0].pk}/course/")
    assert page.status_code == 200
    assert page.context["form"].initial["dates"] == "\n".join(str(d) for d in INDUCTION)
    assert "From the signed plan" in page.content.decode()
    assert "override reason" not in page.content.decode()  # only prescribers see it
    form = page.context["form"]
    data = {"dates": form.initial["dates"], "type": form.initial["type"], "confirm": "1"}
    response = client.post(f"/calendar/patients/{patients[0].pk}/course/", data)
    assert response.status_code == 302
    plan = patients[0].plans.get()
    assert Appointment.objects.filter(course_key=f"plan-{plan.pk}").count() == 6


def test_the_course_page_refuses_typed_dates_from_the_desk_with_a_form_error(
    calendar, front_desk, prescriber, patients
):
    typed = "\n".join(str(d + dt.timedelta(days=14)) for d in INDUCTION[:2])
    data = {"dates": typed, "type": calendar["types"]["iv_infusion"].pk, "confirm": "1"}
    url = f"/calendar/patients/{patients[0].pk}/course/"
    response = signed_in(front_desk).post(url, data)
    assert response.status_code == 422
    assert "not the signed plan&#x27;s planned sessions" in response.content.decode()
    assert not Appointment.objects.exists()
    as_prescriber = signed_in(prescriber)
    assert "Prescriber&#x27;s override reason" in as_prescriber.get(url).content.decode()
    data["override_reason"] = "Starts two weeks late after surgery."
    assert as_prescriber.post(url, data).status_code == 302
    assert Appointment.objects.filter(patient=patients[0]).count() == 2


def test_the_booking_page_shows_the_missing_plan_beside_the_form(calendar, front_desk, unplanned):
    response = signed_in(front_desk).post(
        f"/calendar/patients/{unplanned.pk}/book/",
        {"type": calendar["types"]["iv_infusion"].pk, "date": str(MONDAY), "time": "09:00"},
    )
    assert response.status_code == 422
    assert "No active signed treatment plan for IV ketamine" in response.content.decode()
