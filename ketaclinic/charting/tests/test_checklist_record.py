"""Clinicians answer the checklist item by item; each answer records who and when.

Only a prescriber overrides an item, always with a reason, and the override is audited. The
dose is double-checked by two different clinicians.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from ketaclinic.audit.models import Outcome
from ketaclinic.charting import checklist_service
from ketaclinic.charting.models import ChecklistEntry, SessionStatus
from ketaclinic.charting.tests.session_makers import (
    last_event,
    open_session,
    rems_ready,
    request_by,
)
from ketaclinic.conftest import PASSWORD, signed_in


@pytest.fixture
def session(patient_a, prescriber, nurse):
    return open_session(patient_a, prescriber, nurse)


def url(session, tail=""):
    return f"/sessions/{session.pk}/checklist/{tail}"


def state_of(session, code):
    return next(s for s in checklist_service.checklist_states(session) if s.code == code)


def test_a_nurse_confirms_an_item_and_the_chart_says_who_and_when(session, nurse):
    response = signed_in(nurse).post(url(session), {"code": "consent_on_file", "outcome": "passed"})

    assert response.status_code == 302
    entry = ChecklistEntry.objects.get(session=session, code="consent_on_file")
    assert (entry.outcome, entry.recorded_by) == ("passed", nurse)
    state = state_of(session, "consent_on_file")
    assert (state.state, state.by, state.at) == ("passed", nurse.display_name, entry.at)
    event = last_event("session.checklist")
    assert event.detail["code"] == "consent_on_file"
    assert event.actor == nurse


def test_not_met_needs_a_note(session, nurse):
    response = signed_in(nurse).post(
        url(session), {"code": "consent_on_file", "outcome": "failed"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 422
    assert response["HX-Retarget"] == "#panel-checklist"
    assert "Say what is not met." in response.content.decode()
    assert not ChecklistEntry.objects.exists()
    assert last_event("session.checklist").outcome == Outcome.INVALID


def test_the_dose_check_refuses_the_same_person_twice(session, nurse):
    response = signed_in(nurse).post(
        url(session),
        {"code": "dose_double_checked", "outcome": "passed", "second_checker": nurse.pk},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 422
    assert "must be done by a different clinician" in response.content.decode()
    assert not ChecklistEntry.objects.exists()


def test_the_dose_check_needs_a_second_clinician(session, nurse):
    with pytest.raises(ValidationError) as refused:
        checklist_service.checklist_record(
            request=request_by(nurse), session=session, code="dose_double_checked", outcome="passed"
        )

    assert "second_checker" in refused.value.message_dict


def test_a_front_desk_user_cannot_be_the_second_checker(session, nurse, front_desk):
    with pytest.raises(ValidationError) as refused:
        checklist_service.checklist_record(
            request=request_by(nurse),
            session=session,
            code="dose_double_checked",
            outcome="passed",
            second_checker=front_desk,
        )

    assert refused.value.message_dict["second_checker"] == [
        "The second checker must be a nurse or prescriber."
    ]


def test_two_clinicians_pass_the_dose_check(session, nurse, prescriber):
    checklist_service.checklist_record(
        request=request_by(nurse),
        session=session,
        code="dose_double_checked",
        outcome="passed",
        second_checker=prescriber,
        second_checker_password=PASSWORD,
    )

    state = state_of(session, "dose_double_checked")
    assert (state.state, state.by, state.second_checker) == (
        "passed",
        nurse.display_name,
        prescriber.display_name,
    )


def test_a_nurse_cannot_tick_an_item_the_record_answers(session, nurse):
    with pytest.raises(ValidationError) as refused:
        checklist_service.checklist_record(
            request=request_by(nurse), session=session, code="screening_valid", outcome="passed"
        )

    assert "read from the record" in refused.value.message_dict["outcome"][0]


def test_an_item_not_asked_for_this_route_is_refused(session, nurse):
    with pytest.raises(ValidationError) as refused:
        checklist_service.checklist_record(
            request=request_by(nurse),
            session=session,
            code="rems_patient_enrolled",
            outcome="failed",
            note="x",
        )

    assert "not asked" in refused.value.message_dict["code"][0]


def test_a_prescriber_overrides_an_item_with_a_reason(session, prescriber):
    response = signed_in(prescriber).post(
        url(session, "override/"),
        {"code": "pregnancy_status", "override_reason": "Post-menopausal, documented by GP."},
    )

    assert response.status_code == 302
    entry = ChecklistEntry.objects.get(session=session, code="pregnancy_status")
    assert (entry.outcome, entry.recorded_by) == ("overridden", prescriber)
    assert state_of(session, "pregnancy_status").state == "overridden"
    event = last_event("session.checklist_override")
    assert event.detail["reason"] == "Post-menopausal, documented by GP."
    assert event.actor == prescriber


def test_a_nurse_cannot_override(session, nurse):
    response = signed_in(nurse).post(
        url(session, "override/"), {"code": "pregnancy_status", "override_reason": "trust me"}
    )

    assert response.status_code == 403
    assert not ChecklistEntry.objects.exists()
    with pytest.raises(ValidationError):
        checklist_service.checklist_override(
            request=request_by(nurse), session=session, code="pregnancy_status", reason="trust me"
        )
    assert not ChecklistEntry.objects.exists()


def test_an_override_without_a_reason_is_refused(session, prescriber):
    response = signed_in(prescriber).post(
        url(session, "override/"),
        {"code": "pregnancy_status", "override_reason": ""},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 422
    assert not ChecklistEntry.objects.exists()


def test_identity_cannot_be_overridden(session, prescriber):
    with pytest.raises(ValidationError) as refused:
        checklist_service.checklist_override(
            request=request_by(prescriber),
            session=session,
            code="identity_confirmed",
            reason="busy",
        )

    assert refused.value.message_dict["code"] == [
        "Patient identity confirmed cannot be overridden."
    ]


def test_rems_items_cannot_be_overridden(patient_a, prescriber, nurse):
    session = open_session(patient_a, prescriber, nurse, "esketamine")

    with pytest.raises(ValidationError) as refused:
        checklist_service.checklist_override(
            request=request_by(prescriber),
            session=session,
            code="rems_setting_certified",
            reason="certificate renewal in progress",
        )

    assert "cannot be overridden" in refused.value.message_dict["code"][0]


def test_esketamine_reads_rems_enrolment_and_certification_from_the_record(
    patient_a, prescriber, nurse
):
    session = open_session(patient_a, prescriber, nurse, "esketamine")
    before = {s.code: s.state for s in checklist_service.checklist_states(session)}
    rems_ready(patient_a, prescriber)
    after = {s.code: s.state for s in checklist_service.checklist_states(session)}

    assert before["rems_patient_enrolled"] == before["rems_setting_certified"] == "failed"
    assert after["rems_patient_enrolled"] == after["rems_setting_certified"] == "passed"


def test_the_checklist_closes_when_dosing_starts(session, nurse, prescriber):
    from ketaclinic.charting.tests.session_makers import started

    started(session, nurse, prescriber)
    session.refresh_from_db()
    assert session.status == SessionStatus.DOSING

    with pytest.raises(ValidationError) as refused:
        checklist_service.checklist_record(
            request=request_by(nurse), session=session, code="consent_on_file", outcome="passed"
        )
    assert "session is dosing" in refused.value.message_dict["status"][0]


def test_outsiders_get_404(session, outsider, patient_b):
    body = {"code": "consent_on_file", "outcome": "passed"}

    assert signed_in(outsider).post(url(session), body).status_code == 404
    assert signed_in(patient_b.user).post(url(session), body).status_code == 404
    assert signed_in(outsider).post(url(session, "override/"), body).status_code == 404
    assert not ChecklistEntry.objects.exists()
