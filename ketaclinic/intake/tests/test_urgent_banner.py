"""Open urgent safety items show as a banner on every staff page until they are resolved."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ketaclinic.conftest import signed_in
from ketaclinic.intake.models import Status
from ketaclinic.intake.tests.makers import make_request
from ketaclinic.outcomes.models import SafetyTask
from ketaclinic.outcomes.tests.factories import add_prescriber
from ketaclinic.web import urgent

pytestmark = pytest.mark.django_db
ITEM_9 = {**{f"item_{n}": "1" for n in range(1, 9)}, "item_9": "2", "action": "submit"}


def test_each_app_with_urgent_items_registers_a_source_in_app_order():
    assert list(urgent.registered_sources())[:2] == ["consultation_requests", "safety_tasks"]


def test_an_urgent_request_shows_on_an_unrelated_staff_page(front_desk):
    consultation = make_request(urgent=True)
    page = signed_in(front_desk).get(reverse("patients:list")).content.decode()
    assert "Urgent safety items open (1)" in page
    assert consultation.reference in page
    assert consultation.family_name not in page  # the banner names no one
    assert reverse("intake:request_detail", args=[consultation.pk]) in page


def test_the_banner_goes_when_the_request_is_resolved(front_desk):
    consultation = make_request(urgent=True)
    consultation.status = Status.DECLINED
    consultation.decline_reason = "Referred to emergency services"
    consultation.save()
    page = signed_in(front_desk).get(reverse("patients:list")).content.decode()
    assert "Urgent safety items" not in page


def test_an_open_safety_task_shows_for_clinicians_until_resolved(patient_a, prescriber, nurse):
    add_prescriber(patient_a, prescriber)
    answer = reverse("questionnaires:answer", kwargs={"code": "phq9"})
    signed_in(patient_a.user).post(answer, ITEM_9)
    task = SafetyTask.objects.get()
    page = signed_in(nurse).get(reverse("patients:list")).content.decode()
    assert "Safety follow-up due" in page
    assert reverse("outcomes:safety_task", args=[task.pk]) in page
    assert patient_a.family_name not in page.split("urgent-banner", 1)[1].split("</aside>", 1)[0]
    signed_in(prescriber).post(
        reverse("outcomes:safety_task", args=[task.pk]),
        {"follow_up_action": "phone_call", "follow_up_note": "Spoke with her; safe, plan agreed."},
    )
    task.refresh_from_db()
    assert task.status == "resolved"
    page = signed_in(nurse).get(reverse("patients:list")).content.decode()
    assert "Safety follow-up due" not in page


def test_people_without_triage_do_not_see_requests(therapist, clinic_admin):
    make_request(urgent=True)
    for user in (therapist, clinic_admin):
        assert urgent.open_items(user) == []


def test_patients_never_see_the_banner(patient_a):
    make_request(urgent=True)
    page = signed_in(patient_a.user).get("/portal/", follow=True).content.decode()
    assert "Urgent safety items" not in page


def test_the_banner_costs_one_query_per_source(prescriber, front_desk):
    make_request(urgent=True)
    make_request("Other", "Person", urgent=True)
    with CaptureQueriesContext(connection) as both:
        items = urgent.open_items(prescriber)
    assert len(items) == 2
    assert len(both) == 2  # requests + safety tasks
    with CaptureQueriesContext(connection) as one:
        urgent.open_items(front_desk)
    assert len(one) == 1  # front desk resolves no safety tasks


def test_a_page_that_does_not_show_the_banner_pays_nothing(rf, front_desk):
    make_request(urgent=True)
    request = rf.get("/")
    request.user = front_desk
    with CaptureQueriesContext(connection) as queries:
        context = urgent.banner(request)
    assert len(queries) == 0
    assert len(context["urgent_items"]) == 1
