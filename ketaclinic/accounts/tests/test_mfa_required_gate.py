"""MFA_REQUIRED: a staff session signed in with a password alone reaches no page, no API and
no admin until its second factor is verified; patients are not forced; bearer tokens are not
sessions."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from ketaclinic.accounts.roles import Role
from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.conftest import make_user

from .mfa_makers import code_now, fully_signed_in, make_authenticator, password_only

STAFF_PAGES = ["/", "/patients/", "/calendar/", "/outcomes/worklist/", "/accounts/password/"]


@pytest.fixture
def mfa_on(settings):
    settings.MFA_REQUIRED = True


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_a_staff_member_without_a_device_is_sent_to_enrol_from_every_page(mfa_on, nurse, path):
    response = password_only(nurse).get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/mfa/enrol/?next=")


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_a_staff_member_with_a_device_is_sent_to_verify_from_every_page(mfa_on, nurse, path):
    make_authenticator(nurse)
    response = password_only(nurse).get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/mfa/verify/?next=")


def test_a_patients_chart_is_not_shown_before_the_second_factor(mfa_on, prescriber, patient_a):
    client = password_only(prescriber)
    response = client.get(f"/patients/{patient_a.pk}/")
    assert response.status_code == 302
    assert patient_a.family_name.encode() not in response.content
    assert not AuditEvent.objects.filter(action="patient.view").exists()


def test_htmx_requests_are_redirected_with_an_htmx_header(mfa_on, nurse):
    response = password_only(nurse).get("/patients/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/accounts/mfa/enrol/")


def test_the_session_api_answers_401_naming_the_second_factor(mfa_on, nurse, patient_a):
    client = password_only(nurse)
    response = client.get(f"/api/v1/patients/{patient_a.pk}")
    assert response.status_code == 401
    body = response.json()
    assert "second factor" in body["message"]
    assert body["errors"] == []
    event = AuditEvent.objects.get(action="mfa.required")
    assert (event.actor, event.outcome) == (nurse, Outcome.REFUSED)


def test_the_session_api_works_once_verified(mfa_on, nurse, patient_a):
    client = fully_signed_in(nurse, make_authenticator(nurse))
    response = client.get(f"/api/v1/patients/{patient_a.pk}")
    assert response.status_code == 200
    assert response.json()["mrn"] == patient_a.mrn


def test_a_bearer_token_still_works_and_a_bad_one_cannot_borrow_the_session(
    mfa_on, nurse, patient_a
):
    out = StringIO()
    call_command("token_create", "nurse", stdout=out)
    raw = out.getvalue().strip()
    assert (
        Client()
        .get(f"/api/v1/patients/{patient_a.pk}", HTTP_AUTHORIZATION=f"Bearer {raw}")
        .status_code
        == 200
    )
    held = password_only(nurse)
    response = held.get(f"/api/v1/patients/{patient_a.pk}", HTTP_AUTHORIZATION="Bearer kc_wrong")
    assert response.status_code == 401
    response = held.get(f"/api/v1/patients/{patient_a.pk}", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200


def test_sign_out_the_mfa_pages_and_static_files_stay_reachable(mfa_on, nurse):
    client = password_only(nurse)
    assert client.get("/accounts/mfa/enrol/").status_code == 200
    assert client.get("/accounts/mfa/passkeys/").status_code == 200
    assert client.get("/accounts/mfa/jsi18n/").status_code == 200
    assert client.get("/static/css/ketaclinic.css").status_code != 302
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"


def test_a_patient_is_not_forced_to_enrol(mfa_on, patient_a):
    client = password_only(patient_a.user)
    response = client.get("/portal/")
    assert response.status_code == 200


def test_a_patient_who_enrolled_is_asked_for_the_code(mfa_on, patient_a):
    device = make_authenticator(patient_a.user)
    client = password_only(patient_a.user)
    assert client.get("/portal/")["Location"].startswith("/accounts/mfa/verify/")
    client.post("/accounts/mfa/verify/", {"code": code_now(device)})
    assert client.get("/portal/").status_code == 200


def test_with_mfa_off_staff_without_a_device_go_straight_in(settings, nurse):
    settings.MFA_REQUIRED = False
    assert password_only(nurse).get("/patients/").status_code == 200


def test_with_mfa_off_a_person_who_enrolled_is_still_asked_for_the_code(settings, nurse):
    settings.MFA_REQUIRED = False
    make_authenticator(nurse)
    assert password_only(nurse).get("/patients/")["Location"].startswith("/accounts/mfa/verify/")


def test_the_setting_is_read_on_each_request(settings, nurse):
    settings.MFA_REQUIRED = False
    client = password_only(nurse)
    assert client.get("/patients/").status_code == 200
    settings.MFA_REQUIRED = True
    assert client.get("/patients/").status_code == 302


@pytest.fixture
def superuser(db):
    return make_user("root", Role.CLINIC_ADMIN, is_staff=True, is_superuser=True)


def test_the_admin_needs_a_verified_second_factor(mfa_on, superuser):
    client = password_only(superuser)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/mfa/enrol/?next=/admin/")
    response = client.get("/admin/accounts/user/")
    assert response["Location"].startswith("/accounts/mfa/enrol/")


def test_the_admin_opens_after_the_second_factor(mfa_on, superuser):
    client = fully_signed_in(superuser, make_authenticator(superuser))
    assert client.get("/admin/").status_code == 200


def test_a_superuser_with_the_patient_role_is_still_held_back(mfa_on, db):
    root = make_user("rootpatient", Role.PATIENT, is_staff=True, is_superuser=True)
    response = password_only(root).get("/admin/")
    assert response["Location"].startswith("/accounts/mfa/enrol/")


def test_the_admin_never_shows_an_authenticators_key_or_recovery_codes(mfa_on, superuser, nurse):
    from ketaclinic.accounts import mfa

    theirs = make_authenticator(nurse)
    codes = mfa.issue_recovery_codes(None, nurse)
    client = fully_signed_in(superuser, make_authenticator(superuser))
    page = client.get(f"/admin/otp_totp/totpdevice/{theirs.pk}/change/")
    assert page.status_code == 200
    assert theirs.key.encode() not in page.content
    static = theirs.user.staticdevice_set.get()
    page = client.get(f"/admin/otp_static/staticdevice/{static.pk}/change/")
    assert page.status_code == 200
    assert not any(code.encode() in page.content for code in codes)


def test_the_fhir_face_answers_an_unverified_session_with_an_operation_outcome(
    mfa_on, nurse, patient_a
):
    response = password_only(nurse).get(f"/fhir/R4/Patient/{patient_a.pk}")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/fhir+json")
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert "second factor" in body["issue"][0]["diagnostics"]


def test_a_bearer_token_reads_fhir_even_beside_an_unverified_session(mfa_on, nurse, patient_a):
    out = StringIO()
    call_command("token_create", "nurse", stdout=out)
    raw = out.getvalue().strip()
    held = password_only(nurse)
    response = held.get(f"/fhir/R4/Patient/{patient_a.pk}", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert response.json()["resourceType"] == "Patient"
