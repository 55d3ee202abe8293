"""The two-clinician dose check is signed by the second clinician's own password.

A wrong password is refused and audited (naming who was asked, never the password); it
never counts toward that clinician's sign-in lockout. Too many wrong passwords for one
clinician pause their checks (429) for the window, while they can still sign in.
"""

from __future__ import annotations

import json
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.core.exceptions import ValidationError
from django.test import Client

from ketaclinic.accounts import verification
from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.charting import checklist_service
from ketaclinic.charting.models import ChecklistEntry
from ketaclinic.charting.tests.session_makers import open_session, request_by
from ketaclinic.conftest import PASSWORD, signed_in

CHECK = "dose_double_checked"


@pytest.fixture
def session(patient_a, prescriber, nurse):
    return open_session(patient_a, prescriber, nurse)


def post_check(client: Client, session, checker, password: str, **headers):
    return client.post(
        f"/sessions/{session.pk}/checklist/",
        {
            "code": CHECK,
            "outcome": "passed",
            "second_checker": checker.pk,
            "second_checker_password": password,
        },
        **headers,
    )


def wrong_passwords_for(user):
    return AuditEvent.objects.filter(
        action=verification.WRONG_PASSWORD, object_type="User", object_id=str(user.pk)
    )


def test_the_second_clinicians_password_signs_the_dose_check(session, nurse, prescriber):
    response = post_check(signed_in(nurse), session, prescriber, PASSWORD)

    assert response.status_code == 302
    entry = ChecklistEntry.objects.get(session=session, code=CHECK)
    assert (entry.recorded_by, entry.second_checker) == (nurse, prescriber)
    event = AuditEvent.objects.filter(action="session.checklist").latest("seq")
    assert event.outcome == Outcome.SUCCESS
    assert event.detail["second_checker"] == prescriber.username
    assert event.detail["second_checker_signed"] == "password"


def test_a_wrong_password_is_refused_and_audited_without_the_password(session, nurse, prescriber):
    response = post_check(
        signed_in(nurse), session, prescriber, "not-her-password", HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 422
    assert "That is not the second clinician&#x27;s password" in response.content.decode()
    assert not ChecklistEntry.objects.filter(session=session).exists()
    (event,) = wrong_passwords_for(prescriber)
    assert event.outcome == Outcome.REFUSED
    assert event.actor == nurse
    assert event.patient_id == session.patient_id
    assert event.detail == {"purpose": "session.checklist", "verifier": prescriber.username}
    assert "not-her-password" not in str(event.detail)


def test_a_wrong_password_does_not_count_toward_sign_in_lockout(session, nurse, prescriber):
    client = signed_in(nurse)
    for _ in range(verification.WRONG_PASSWORDS_ALLOWED):
        post_check(client, session, prescriber, "not-her-password")

    assert not AccessAttempt.objects.exists()
    signed = Client().post(
        "/accounts/login/", {"username": prescriber.username, "password": PASSWORD}
    )
    assert signed.status_code == 302


def test_the_check_needs_the_password_and_a_missing_one_is_not_a_wrong_one(
    session, nurse, prescriber
):
    with pytest.raises(ValidationError) as refused:
        checklist_service.checklist_record(
            request=request_by(nurse),
            session=session,
            code=CHECK,
            outcome="passed",
            second_checker=prescriber,
        )

    assert "second_checker_password" in refused.value.message_dict
    assert not wrong_passwords_for(prescriber).exists()
    invalid = AuditEvent.objects.filter(action="session.checklist").latest("seq")
    assert invalid.outcome == Outcome.INVALID


def test_too_many_wrong_passwords_pause_that_clinicians_checks_with_429(session, nurse, prescriber):
    client = signed_in(nurse)
    for _ in range(verification.WRONG_PASSWORDS_ALLOWED):
        assert post_check(client, session, prescriber, "not-her-password").status_code == 422

    paused = post_check(client, session, prescriber, PASSWORD, HTTP_HX_REQUEST="true")

    assert paused.status_code == 429
    assert "Too many wrong passwords for" in paused.content.decode()
    assert not ChecklistEntry.objects.filter(session=session).exists()
    throttled = AuditEvent.objects.filter(action=verification.THROTTLED).latest("seq")
    assert (throttled.outcome, throttled.object_id) == (Outcome.REFUSED, str(prescriber.pk))
    # Her own sign-in is untouched.
    assert (
        Client()
        .post("/accounts/login/", {"username": prescriber.username, "password": PASSWORD})
        .status_code
        == 302
    )


def test_the_pause_lifts_when_the_window_passes(session, nurse, prescriber):
    client = signed_in(nurse)
    for _ in range(verification.WRONG_PASSWORDS_ALLOWED):
        post_check(client, session, prescriber, "not-her-password")
    later = verification.clock() + verification.WINDOW
    with mock.patch.object(verification, "clock", return_value=later):
        response = post_check(client, session, prescriber, PASSWORD)

    assert response.status_code == 302
    assert ChecklistEntry.objects.filter(session=session, code=CHECK).exists()


def test_the_pause_is_per_clinician(session, nurse, prescriber):
    client = signed_in(prescriber)
    for _ in range(verification.WRONG_PASSWORDS_ALLOWED):
        post_check(signed_in(nurse), session, prescriber, "not-her-password")

    # Another clinician can still sign the check for the nurse's colleague.
    response = post_check(client, session, nurse, PASSWORD)

    assert response.status_code == 302


def test_an_outsider_cannot_try_passwords_on_a_session(session, outsider, prescriber):
    response = post_check(signed_in(outsider), session, prescriber, "guess")

    assert response.status_code == 404
    assert not wrong_passwords_for(prescriber).exists()


def api_check(client: Client, session, username: str | None, password: str | None):
    body = {"code": CHECK, "outcome": "passed", "note": "70 mg checked"}
    if username is not None:
        body |= {"second_checker_username": username, "second_checker_password": password}
    return client.post(
        f"/api/v1/sessions/{session.pk}/checklist",
        json.dumps(body),
        content_type="application/json",
    )


def test_the_api_takes_the_second_clinicians_password(session, nurse, prescriber):
    response = api_check(signed_in(nurse), session, prescriber.username, PASSWORD)

    assert response.status_code == 201
    body = response.json()
    assert (body["code"], body["recorded_by"], body["second_checker"]) == (
        CHECK,
        nurse.username,
        prescriber.username,
    )
    entry = ChecklistEntry.objects.get(pk=body["id"])
    assert entry.second_checker == prescriber


def test_the_api_refuses_a_wrong_password_naming_the_field(session, nurse, prescriber):
    response = api_check(signed_in(nurse), session, prescriber.username, "guess")

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["second_checker_password"]
    assert wrong_passwords_for(prescriber).count() == 1
    assert not ChecklistEntry.objects.exists()


def test_the_api_answers_429_while_the_clinician_is_paused(session, nurse, prescriber):
    client = signed_in(nurse)
    for _ in range(verification.WRONG_PASSWORDS_ALLOWED):
        api_check(client, session, prescriber.username, "guess")

    response = api_check(client, session, prescriber.username, PASSWORD)

    assert response.status_code == 429
    assert "Too many wrong passwords" in response.json()["message"]
    assert response.json()["errors"][0]["field"] == "second_checker_password"
    assert not ChecklistEntry.objects.exists()


def test_the_api_names_an_unknown_second_clinician(session, nurse):
    response = api_check(signed_in(nurse), session, "nobody", PASSWORD)

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["second_checker_username"]


def test_the_api_dose_check_without_a_second_clinician_is_refused(session, nurse):
    response = api_check(signed_in(nurse), session, None, None)

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["second_checker"]


def test_an_api_outsider_gets_404_and_tries_no_password(session, outsider, prescriber):
    response = api_check(signed_in(outsider), session, prescriber.username, "guess")

    assert response.status_code == 404
    assert not wrong_passwords_for(prescriber).exists()
