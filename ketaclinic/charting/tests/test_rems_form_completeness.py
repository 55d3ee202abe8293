"""The form is marked incomplete with the missing fields listed, and cannot be submitted
until it is complete; once submitted it is frozen as filed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.charting.models import RemsForm, VitalReading
from ketaclinic.conftest import signed_in
from ketaclinic.patients.models import EntryStatus

from .rems_makers import certify, esketamine_session

READY_LABEL = "Minutes from the first device until the patient would have been ready to leave"


@pytest.fixture
def day():
    return timezone.localdate() - dt.timedelta(days=2)


@pytest.fixture
def session(patient_a, prescriber, nurse, day):
    certify(prescriber, day)
    return esketamine_session(patient_a, prescriber, nurse, day=day)


def url(session, action=""):
    return f"/rems/sessions/{session.pk}/{action}"


def test_the_page_marks_the_form_incomplete_and_lists_what_is_missing(nurse, session):
    response = signed_in(nurse).get(url(session))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Incomplete" in page
    assert READY_LABEL in page
    assert response.context["state"].missing_labels == [
        f"{READY_LABEL} without the 2-hour requirement"
    ]
    assert 'disabled aria-describedby="missing"' in page


def test_submitting_an_incomplete_form_is_refused_and_nothing_is_filed(nurse, session):
    response = signed_in(nurse).post(url(session, "submit/"))

    assert response.status_code == 422
    assert "The form is incomplete. Missing:" in response.content.decode()
    assert not RemsForm.objects.filter(submitted_at__isnull=False).exists()
    event = AuditEvent.objects.filter(action="rems.form_submit").get()
    assert event.outcome == Outcome.INVALID
    assert event.patient_id == session.patient_id


def test_answering_the_missing_field_completes_the_form_and_it_can_be_submitted(nurse, session):
    client = signed_in(nurse)
    saved = client.post(url(session, "save/"), {"ready_to_leave_minutes": "95"})
    assert saved.status_code == 302

    page = client.get(url(session))
    state = page.context["state"]
    assert state.complete
    assert state.origins["ready_to_leave_minutes"] == "entered"
    assert "Complete: every field is filled" in page.content.decode()

    submitted = client.post(url(session, "submit/"))
    assert submitted.status_code == 302
    form = RemsForm.objects.get(session=session)
    assert form.submitted_by == nurse
    assert form.submitted_at is not None
    assert form.values["fields"]["ready_to_leave_minutes"] == 95
    assert form.values["fields"]["bp_40_min_systolic_mmhg"] == 150
    assert AuditEvent.objects.filter(action="rems.form_submit", outcome="success").exists()


def test_a_submitted_form_stays_as_filed_when_the_chart_changes_later(nurse, session):
    client = signed_in(nurse)
    client.post(url(session, "save/"), {"ready_to_leave_minutes": "95"})
    client.post(url(session, "submit/"))
    VitalReading.objects.filter(session=session, systolic_mmhg=150).update(
        status=EntryStatus.ENTERED_IN_ERROR
    )

    state = client.get(url(session)).context["state"]
    assert state.submitted
    assert state.complete
    assert state.result.values["bp_40_min_systolic_mmhg"] == 150
    again = client.post(url(session, "save/"), {"ready_to_leave_minutes": "20"})
    assert again.status_code == 422
    assert RemsForm.objects.get().values["fields"]["ready_to_leave_minutes"] == 95
    assert client.post(url(session, "submit/")).status_code == 422


def test_a_field_the_record_fills_cannot_be_overwritten_on_the_form(nurse, session):
    response = signed_in(nurse).post(
        url(session, "save/"), {"ready_to_leave_minutes": "95", "patient_name": "Someone Else"}
    )
    # The form offers no input for it: the posted value is ignored, the record stands.
    assert response.status_code == 302
    state = signed_in(nurse).get(url(session)).context["state"]
    assert state.result.values["patient_name"] == "Ada Alvarez"


def test_a_value_of_the_wrong_kind_is_refused_with_422(nurse, session):
    response = signed_in(nurse).post(url(session, "save/"), {"ready_to_leave_minutes": "-3"})
    assert response.status_code == 422
    assert not RemsForm.objects.exists() or not RemsForm.objects.get().values.get("entered")


def test_a_blank_answer_clears_an_earlier_one(nurse, session):
    client = signed_in(nurse)
    client.post(url(session, "save/"), {"ready_to_leave_minutes": "95"})
    client.post(url(session, "save/"), {"ready_to_leave_minutes": ""})
    state = client.get(url(session)).context["state"]
    assert "ready_to_leave_minutes" in state.result.missing
