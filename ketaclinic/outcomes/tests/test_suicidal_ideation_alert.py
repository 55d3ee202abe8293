"""The alert path end to end: an item-9 answer on the portal opens an urgent task for the
prescriber at the top of the worklist, the patient sees crisis resources at once, and only a
documented follow-up closes the task. Never silent."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ketaclinic.accounts.roles import Role
from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.conftest import make_user, signed_in
from ketaclinic.outcomes.models import Response, SafetyTask, SafetyTaskStatus
from ketaclinic.outcomes.tests.factories import add_prescriber, make_plan, today

ANSWER = reverse("questionnaires:answer", kwargs={"code": "phq9"})
WORKLIST = reverse("outcomes:worklist")
ITEM_9 = {**{f"item_{n}": "1" for n in range(1, 9)}, "item_9": "2", "action": "submit"}


@pytest.fixture
def flagged(patient_a, prescriber):
    """Patient A, with the prescriber on the care team, answers item 9 'More than half the days'."""
    add_prescriber(patient_a, prescriber)
    response = signed_in(patient_a.user).post(ANSWER, ITEM_9, follow=True)
    return response


def test_an_item_9_answer_opens_an_urgent_task_for_the_care_team_prescriber(
    flagged, patient_a, prescriber
):
    task = SafetyTask.objects.get()
    stored = Response.objects.get()

    assert stored.flags == ["suicidal_ideation"]
    assert task.patient == patient_a
    assert task.response == stored
    assert task.assigned_to == prescriber
    assert task.status == SafetyTaskStatus.OPEN
    assert "item 9 answered 'More than half the days'" in task.finding
    event = AuditEvent.objects.get(action="safety_task.create")
    assert event.detail["assigned_to"] == "prescriber"


def test_the_patient_sees_crisis_resources_on_the_confirmation_page(flagged):
    page = flagged.content.decode()

    assert flagged.status_code == 200
    assert 'id="crisis-resources"' in page
    assert "988" in page
    assert 'href="tel:988"' in page
    assert 'href="tel:911"' in page
    assert "Your care team has been alerted" in page


def test_the_task_is_at_the_top_of_the_prescribers_worklist_at_once(flagged, prescriber, patient_a):
    page = signed_in(prescriber).get(WORKLIST).content.decode()

    top = page.index('id="safety-tasks"')
    assert page.index(patient_a.full_name) > top
    assert page.index(patient_a.full_name) < page.index("Measures due and overdue")
    assert "assigned to you" in page


def test_every_clinician_sees_it_but_front_desk_cannot_open_the_worklist(
    flagged, nurse, front_desk
):
    assert (
        "Urgent: suicidal-ideation follow-up (1)" in signed_in(nurse).get(WORKLIST).content.decode()
    )
    assert signed_in(front_desk).get(WORKLIST).status_code == 403


def test_a_documented_follow_up_closes_it(flagged, prescriber, patient_a):
    task = SafetyTask.objects.get()
    client = signed_in(prescriber)

    response = client.post(
        reverse("outcomes:safety_task", kwargs={"task_id": task.pk}),
        {
            "follow_up_action": "phone_call",
            "follow_up_note": "Called; passive thoughts, no plan; safety plan.",
        },
    )

    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == SafetyTaskStatus.RESOLVED
    assert task.resolved_by == prescriber
    assert task.follow_up_action == "phone_call"
    assert AuditEvent.objects.get(action="safety_task.resolve").detail["action"] == "phone_call"
    assert "Urgent: suicidal-ideation follow-up (0)" in client.get(WORKLIST).content.decode()


def test_it_stays_open_without_a_note(flagged, prescriber):
    task = SafetyTask.objects.get()

    response = signed_in(prescriber).post(
        reverse("outcomes:safety_task", kwargs={"task_id": task.pk}),
        {"follow_up_action": "phone_call", "follow_up_note": ""},
    )

    assert response.status_code == 422
    task.refresh_from_db()
    assert task.status == SafetyTaskStatus.OPEN
    assert AuditEvent.objects.filter(action="safety_task.resolve", outcome=Outcome.INVALID).exists()


def test_front_desk_cannot_document_the_follow_up(flagged, front_desk):
    task = SafetyTask.objects.get()

    response = signed_in(front_desk).post(
        reverse("outcomes:safety_task", kwargs={"task_id": task.pk}),
        {"follow_up_action": "phone_call", "follow_up_note": "x"},
    )

    assert response.status_code == 403
    task.refresh_from_db()
    assert task.status == SafetyTaskStatus.OPEN


def test_without_a_prescriber_on_the_care_team_it_goes_to_the_plan_signer(patient_a, prescriber):
    other = make_user("prescriber2", Role.PRESCRIBER)
    make_plan(patient_a, other, start=today(), status="active")

    signed_in(patient_a.user).post(ANSWER, ITEM_9)

    assert SafetyTask.objects.get().assigned_to == other


def test_with_nobody_to_assign_it_is_unassigned_and_shown_to_every_prescriber(
    patient_a, prescriber
):
    signed_in(patient_a.user).post(ANSWER, ITEM_9)

    task = SafetyTask.objects.get()
    assert task.assigned_to is None
    page = signed_in(prescriber).get(WORKLIST).content.decode()
    assert "unassigned" in page
    assert patient_a.full_name in page


def test_a_paper_answer_with_item_9_raises_it_too(patient_a, nurse, prescriber):
    add_prescriber(patient_a, prescriber)
    data = {**{f"item_{n}": "0" for n in range(1, 9)}, "item_9": "1", "channel": "paper"}
    data |= {"instrument": "phq9", "answered_on": today().isoformat()}

    response = signed_in(nurse).post(
        reverse("outcomes:enter", kwargs={"patient_id": patient_a.pk}), data
    )

    assert response.status_code == 302
    assert SafetyTask.objects.get().assigned_to == prescriber


def test_another_patient_cannot_open_the_task(flagged, patient_b):
    task = SafetyTask.objects.get()

    assert (
        signed_in(patient_b.user)
        .get(reverse("outcomes:safety_task", kwargs={"task_id": task.pk}))
        .status_code
        == 404
    )
