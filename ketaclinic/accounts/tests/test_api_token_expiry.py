"""API tokens expire (90 days unless `--days` says otherwise); each person sees and revokes
their own tokens, the clinic admin everyone's."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from ketaclinic.accounts.models import TOKEN_LIFETIME_DAYS, ApiToken
from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.conftest import signed_in


def create_token(username: str, *args: str) -> str:
    out = StringIO()
    call_command("token_create", username, *args, stdout=out)
    return out.getvalue().strip()


def test_a_token_expires_after_ninety_days_by_default(nurse):
    create_token("nurse")
    token = ApiToken.objects.get(user=nurse)
    assert TOKEN_LIFETIME_DAYS == 90
    assert token.expires_at - token.created_at == dt.timedelta(days=90)
    event = AuditEvent.objects.get(action="token.create")
    assert event.detail["days"] == 90


def test_days_sets_the_lifetime(nurse):
    create_token("nurse", "--days", "7")
    token = ApiToken.objects.get(user=nurse)
    assert token.expires_at - token.created_at == dt.timedelta(days=7)


@pytest.mark.parametrize("days", ["0", "-3"])
def test_days_must_be_at_least_one(nurse, days):
    with pytest.raises(CommandError, match="--days must be at least 1"):
        create_token("nurse", "--days", days)
    assert not ApiToken.objects.exists()


def test_an_expired_token_is_refused_like_a_revoked_one_and_audited(nurse, patient_a):
    raw = create_token("nurse")
    token = ApiToken.objects.get(user=nurse)
    url = f"/api/v1/patients/{patient_a.pk}"
    assert Client().get(url, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200

    now = timezone.now()
    ApiToken.objects.filter(pk=token.pk).update(
        created_at=now - dt.timedelta(days=91), expires_at=now - dt.timedelta(days=1)
    )
    response = Client().get(url, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401
    assert response.json()["message"] == "Sign in or send a valid bearer token."
    refused = AuditEvent.objects.filter(action="auth.token_refused").last()
    assert refused.outcome == Outcome.REFUSED
    token.refresh_from_db()
    assert token.status == "expired"


def test_the_token_page_lists_ones_own_tokens_with_their_dates(nurse, prescriber):
    create_token("nurse", "--name", "vitals monitor")
    create_token("prescriber", "--name", "prescriber script")
    mine = ApiToken.objects.get(user=nurse)
    ApiToken.objects.filter(pk=mine.pk).update(last_used_at=timezone.now())

    response = signed_in(nurse).get("/accounts/tokens/")
    assert response.status_code == 200
    page = response.content.decode()
    assert mine.prefix in page
    assert "vitals monitor" in page
    assert timezone.localtime(mine.expires_at).strftime("%-d %b %Y") in page
    assert "prescriber script" not in page
    assert ApiToken.objects.get(user=prescriber).prefix not in page
    assert response.context["others"] is None
    assert AuditEvent.objects.filter(action="token.list", actor=nurse).exists()


def test_the_clinic_admin_sees_everyones_tokens(clinic_admin, nurse, prescriber):
    create_token("nurse", "--name", "vitals monitor")
    create_token("prescriber", "--name", "prescriber script")
    response = signed_in(clinic_admin).get("/accounts/tokens/")
    page = response.content.decode()
    assert "vitals monitor" in page
    assert "prescriber script" in page
    assert {t.user for t in response.context["others"]} == {nurse, prescriber}


def test_a_person_revokes_their_own_token_and_it_stops_working(nurse, patient_a):
    raw = create_token("nurse")
    token = ApiToken.objects.get(user=nurse)
    response = signed_in(nurse).post(f"/accounts/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    event = AuditEvent.objects.get(action="token.revoke")
    assert (event.actor, event.object_id, event.detail["by"]) == (nurse, str(token.pk), "web")
    api = Client().get(f"/api/v1/patients/{patient_a.pk}", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.status_code == 401


def test_nobody_else_can_revoke_a_persons_token(nurse, prescriber, outsider):
    create_token("nurse")
    token = ApiToken.objects.get(user=nurse)
    for who in (prescriber, outsider):
        response = signed_in(who).post(f"/accounts/tokens/{token.pk}/revoke/")
        assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert not AuditEvent.objects.filter(action="token.revoke").exists()


def test_the_clinic_admin_may_revoke_anyones_token(clinic_admin, nurse):
    create_token("nurse")
    token = ApiToken.objects.get(user=nurse)
    assert signed_in(clinic_admin).post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.get(action="token.revoke").detail["owner"] == "nurse"


def test_revoking_needs_a_post(nurse):
    create_token("nurse")
    token = ApiToken.objects.get(user=nurse)
    assert signed_in(nurse).get(f"/accounts/tokens/{token.pk}/revoke/").status_code == 405


def test_the_token_page_needs_a_sign_in(db):
    response = Client().get("/accounts/tokens/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_token_cannot_expire_before_it_was_created(nurse):
    from django.db import IntegrityError, transaction

    token, _ = ApiToken.issue(nurse, "x")
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiToken.objects.filter(pk=token.pk).update(expires_at=token.created_at)
