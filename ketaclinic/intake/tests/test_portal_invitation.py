"""Staff invite a patient to the portal; the patient chooses a password from the emailed link."""

from __future__ import annotations

import datetime as dt
import re
from unittest import mock

import pytest
from django.core import mail
from django.test import Client

from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.conftest import make_patient, make_user, signed_in
from ketaclinic.intake import invitations
from ketaclinic.intake.tests.makers import make_request

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "lantern-orchard-velvet-42"


@pytest.fixture
def patient(db):
    return make_patient("Noor", "Haddad", email="noor@example.org")


def invite(client: Client, patient, **data):
    return client.post(f"/patients/{patient.pk}/portal-invitation/", data)


def link_path() -> str:
    url = re.search(r"https?://\S+/portal/welcome/\S+/", mail.outbox[-1].body).group(0)
    return "/" + url.split("/", 3)[3]


def test_inviting_creates_a_patient_login_linked_to_the_record_and_emails_a_link(
    front_desk, patient
):
    response = invite(signed_in(front_desk), patient)

    assert response.status_code == 302
    assert response["Location"] == f"/patients/{patient.pk}/tab/portal/"
    patient.refresh_from_db()
    user = patient.user
    assert user.role == Role.PATIENT
    assert user.username == "noor@example.org"
    assert user.email == "noor@example.org"
    assert not user.has_usable_password()
    assert mail.outbox[-1].to == ["noor@example.org"]
    event = AuditEvent.objects.get(action="portal_invite.sent")
    assert (event.patient_id, event.actor_id, event.outcome) == (
        patient.pk,
        front_desk.pk,
        Outcome.SUCCESS,
    )
    assert event.detail["account"] == "created"


def test_the_email_carries_no_clinical_detail(front_desk, patient):
    make_request("Noor", "Haddad", patient=patient)
    invite(signed_in(front_desk), patient)

    message = mail.outbox[-1]
    text = (message.subject + message.body).lower()
    for clinical in ("ketamine", "esketamine", "depression", "suicid", "infusion", "visit"):
        assert clinical not in text


def test_the_patient_sets_a_password_from_the_link_and_lands_on_the_portal(front_desk, patient):
    invite(signed_in(front_desk), patient)
    stranger = Client()
    path = link_path()

    assert stranger.get(path).status_code == 200
    response = stranger.post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/portal/"
    patient.refresh_from_db()
    assert patient.user.check_password(NEW_PASSWORD)
    assert stranger.get("/portal/").status_code == 200
    used = AuditEvent.objects.get(action="portal_invite.used")
    assert (used.patient_id, used.actor_id) == (patient.pk, patient.user_id)


def test_a_weak_password_is_refused_by_the_projects_validators(front_desk, patient):
    invite(signed_in(front_desk), patient)
    path = link_path()

    response = Client().post(path, {"new_password1": "password", "new_password2": "password"})

    assert response.status_code == 422
    patient.refresh_from_db()
    assert not patient.user.has_usable_password()


def test_a_link_works_once(front_desk, patient):
    invite(signed_in(front_desk), patient)
    path = link_path()
    Client().post(path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    again = Client().post(path, {"new_password1": "x" + NEW_PASSWORD, "new_password2": "x"})

    assert again.status_code == 410
    patient.refresh_from_db()
    assert patient.user.check_password(NEW_PASSWORD)
    assert AuditEvent.objects.filter(
        action="portal_invite.refused", outcome=Outcome.REFUSED, patient_id=patient.pk
    ).exists()


def test_inviting_again_reuses_the_login_and_replaces_earlier_links(front_desk, patient):
    client = signed_in(front_desk)
    invite(client, patient)
    first = link_path()
    user_id = User.objects.get(patient_record=patient).pk

    invite(client, patient)

    assert User.objects.get(patient_record=patient).pk == user_id
    assert User.objects.filter(role=Role.PATIENT).count() == 1
    assert Client().get(first).status_code == 410
    assert Client().get(link_path()).status_code == 200
    assert AuditEvent.objects.filter(action="portal_invite.sent").order_by("seq").last().detail[
        "account"
    ] == ("reused")


def test_a_link_expires_after_the_clinics_72_hours(front_desk, patient):
    invite(signed_in(front_desk), patient)
    path = link_path()
    # Django's token clock is naive local time; move it just past the clinic's limit.
    later = invitations.tokens._now() + dt.timedelta(hours=invitations.INVITATION_HOURS, minutes=1)

    with mock.patch.object(invitations.InvitationTokens, "_now", return_value=later):
        assert Client().get(path).status_code == 410
    assert Client().get(path).status_code == 200


def test_a_tampered_link_is_refused(front_desk, patient):
    invite(signed_in(front_desk), patient)
    path = link_path()

    assert Client().get(path[:-3] + "zz/").status_code == 410
    assert Client().get("/portal/welcome/Zm9v/abc-def/").status_code == 410


def test_a_record_without_email_is_refused_naming_the_email(front_desk):
    patient = make_patient("Ivo", "Petrov")

    response = invite(signed_in(front_desk), patient)

    assert response.status_code == 422
    assert b"no email address" in response.content
    patient.refresh_from_db()
    assert patient.user is None
    assert not mail.outbox
    event = AuditEvent.objects.get(action="portal_invite.sent")
    assert event.outcome == Outcome.INVALID
    assert "email" in event.detail["error"]


def test_a_record_linked_to_a_staff_account_is_a_conflict(front_desk, nurse):
    patient = make_patient("Ivo", "Petrov", email="ivo@example.org", user=nurse)

    response = invite(signed_in(front_desk), patient)

    assert response.status_code == 409
    nurse.refresh_from_db()
    assert nurse.has_usable_password()
    assert not mail.outbox


def test_a_therapist_may_not_invite_and_the_refusal_is_audited(therapist, patient):
    response = invite(signed_in(therapist), patient)

    assert response.status_code == 403
    patient.refresh_from_db()
    assert patient.user is None
    assert AuditEvent.objects.filter(action="access.refused", patient_id=patient.pk).exists()


def test_an_outsider_gets_404(outsider, patient):
    assert invite(signed_in(outsider), patient).status_code == 404


def test_the_portal_tab_shows_the_account_and_the_invitations(front_desk, patient):
    client = signed_in(front_desk)
    invite(client, patient)

    page = client.get(f"/patients/{patient.pk}/tab/portal/")

    assert page.status_code == 200
    assert b"invited, password not yet chosen" in page.content
    assert b"invitation sent" in page.content


def test_the_converted_request_offers_the_invitation_and_returns_to_it(front_desk, patient):
    request = make_request("Noor", "Haddad", patient=patient, status="converted")
    client = signed_in(front_desk)
    detail = f"/triage/{request.pk}/"

    assert b"Invite to the portal" in client.get(detail).content
    response = invite(client, patient, next=detail)

    assert response.status_code == 302
    assert response["Location"] == detail
    assert len(mail.outbox) == 1


def test_a_staff_member_is_never_logged_in_through_a_patient_link(front_desk, patient, nurse):
    invite(signed_in(front_desk), patient)
    path = link_path()
    # The link names the patient's account; a signed-in nurse opening it changes nothing.
    response = signed_in(nurse).post(
        path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    nurse.refresh_from_db()
    assert not nurse.check_password(NEW_PASSWORD)


def test_deactivated_portal_account_is_a_conflict(front_desk):
    user = make_user("old", Role.PATIENT, is_active=False)
    patient = make_patient("Ivo", "Petrov", email="ivo@example.org", user=user)

    assert invite(signed_in(front_desk), patient).status_code == 409
