"""Forms are due 7 days after the treatment; unfiled ones past that are listed as overdue."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ketaclinic.charting import rems_register
from ketaclinic.charting.models import RemsForm, SessionStatus
from ketaclinic.conftest import signed_in
from ketaclinic.inventory.tests.helpers import plan_for, session_on

from .rems_makers import esketamine_session


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def plan(patient_a, prescriber):
    return plan_for(patient_a, prescriber, "esketamine")


def treated(plan, prescriber, nurse, days_ago: int):
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    return esketamine_session(plan.patient, prescriber, nurse, day=day, plan=plan)


def test_an_unfiled_form_is_overdue_from_the_eighth_day(plan, prescriber, nurse, today):
    due_today = treated(plan, prescriber, nurse, 7)
    late = treated(plan, prescriber, nurse, 8)
    very_late = treated(plan, prescriber, nurse, 30)
    treated(plan, prescriber, nurse, 1)

    overdue = rems_register.due_forms(today=today, overdue_only=True)

    assert [f.session for f in overdue] == [very_late, late]
    assert [f.days_late for f in overdue] == [23, 1]
    due = {f.session: f for f in rems_register.due_forms(today=today)}
    assert due[due_today].due_date == today
    assert not due[due_today].overdue


def test_a_filed_form_leaves_the_list(plan, prescriber, nurse, today):
    filed = treated(plan, prescriber, nurse, 10)
    RemsForm.objects.create(session=filed, submitted_at=timezone.now(), submitted_by=nurse)
    assert rems_register.due_forms(today=today, overdue_only=True) == []


def test_only_esketamine_sessions_that_gave_a_dose_need_a_form(
    plan, prescriber, nurse, patient_b, today
):
    iv = session_on(plan_for(patient_b, prescriber, "iv"), nurse)
    iv.opened_at = timezone.now() - dt.timedelta(days=20)
    iv.save(update_fields=["opened_at"])
    not_started = treated(plan, prescriber, nurse, 12)
    not_started.status = SessionStatus.NOT_STARTED
    not_started.save(update_fields=["status"])
    assert rems_register.due_forms(today=today) == []


def test_the_treatment_date_is_the_first_device_in_the_clinics_zone(plan, prescriber, nurse):
    session = treated(plan, prescriber, nurse, 9)
    (form,) = rems_register.due_forms()
    assert form.treatment_date == timezone.localdate() - dt.timedelta(days=9)
    assert form.session == session


def test_the_overdue_page_lists_them_for_clinicians_and_the_clinic_admin(
    plan, prescriber, nurse, clinic_admin
):
    treated(plan, prescriber, nurse, 9)
    treated(plan, prescriber, nurse, 2)

    for user in (nurse, clinic_admin):
        response = signed_in(user).get("/rems/overdue/")
        assert response.status_code == 200
        assert [f.days_late for f in response.context["overdue"]] == [2]
        page = response.content.decode()
        assert "Ada Alvarez" in page
        assert "Overdue 2 days" in page
    # The clinic admin sees who is overdue, not the forms' clinical content.
    assert "Open form" not in signed_in(clinic_admin).get("/rems/overdue/").content.decode()


def test_the_rems_index_shows_overdue_and_due_forms_apart(plan, prescriber, nurse):
    treated(plan, prescriber, nurse, 9)
    treated(plan, prescriber, nurse, 2)
    response = signed_in(nurse).get("/rems/")
    assert response.status_code == 200
    assert len(response.context["overdue"]) == 1
    assert len(response.context["due"]) == 1
    assert "No REMS setting certification in force today" in response.content.decode()
