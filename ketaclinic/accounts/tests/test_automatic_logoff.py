"""Sessions end after 15 minutes idle and 12 hours in all (HIPAA automatic logoff)."""

from __future__ import annotations

import time

from ketaclinic.accounts.signals import LAST_SEEN, LOGIN_AT
from ketaclinic.audit.models import AuditEvent
from ketaclinic.conftest import signed_in


def age_session(client, *, idle_s: float, since_login_s: float) -> None:
    session = client.session
    now = time.time()
    session[LAST_SEEN] = now - idle_s
    session[LOGIN_AT] = now - since_login_s
    session.save()


def test_an_active_session_keeps_working(nurse):
    client = signed_in(nurse)
    age_session(client, idle_s=14 * 60, since_login_s=3600)
    assert client.get("/patients/").status_code == 200


def test_fifteen_minutes_idle_signs_the_user_out(nurse):
    client = signed_in(nurse)
    age_session(client, idle_s=15 * 60 + 1, since_login_s=3600)
    response = client.get("/patients/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/patients/")
    assert client.get("/patients/").status_code == 302, "the session is really gone"
    event = AuditEvent.objects.filter(action="session.expired").get()
    assert event.actor_username == "nurse"
    assert event.detail == {"reason": "idle"}


def test_twelve_hours_signs_the_user_out_even_when_active(nurse):
    client = signed_in(nurse)
    age_session(client, idle_s=10, since_login_s=12 * 3600 + 1)
    assert client.get("/patients/").status_code == 302
    assert AuditEvent.objects.get(action="session.expired").detail == {"reason": "absolute"}


def test_an_expired_api_session_answers_401_in_json(nurse):
    client = signed_in(nurse)
    age_session(client, idle_s=16 * 60, since_login_s=3600)
    response = client.get("/api/v1/patients")
    assert response.status_code == 401
    assert "sign in again" in response.json()["message"]


def test_an_htmx_request_is_redirected_by_header(nurse):
    client = signed_in(nurse)
    age_session(client, idle_s=16 * 60, since_login_s=3600)
    response = client.get("/patients/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/accounts/login/")


def test_automatic_polls_do_not_keep_an_idle_screen_signed_in(nurse):
    client = signed_in(nurse)
    age_session(client, idle_s=10 * 60, since_login_s=3600)
    assert client.get("/patients/", HTTP_X_POLL="1").status_code == 200
    last_seen = client.session[LAST_SEEN]
    assert time.time() - last_seen >= 10 * 60 - 5, "a poll does not count as activity"
    age_session(client, idle_s=16 * 60, since_login_s=3600)
    assert client.get("/patients/", HTTP_X_POLL="1").status_code == 302
