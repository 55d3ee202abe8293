"""Recovery codes: shown once, each usable once, replaced all together."""

from __future__ import annotations

import pytest
from django_otp.plugins.otp_static.models import StaticToken

from ketaclinic.accounts import mfa
from ketaclinic.audit.models import AuditEvent

from .mfa_makers import fully_signed_in, make_authenticator, password_only


@pytest.fixture(autouse=True)
def mfa_required(settings):
    settings.MFA_REQUIRED = True


def test_a_recovery_code_signs_in_once_and_never_again(nurse):
    make_authenticator(nurse)
    codes = mfa.issue_recovery_codes(None, nurse)

    client = password_only(nurse)
    response = client.post("/accounts/mfa/verify/", {"code": codes[0].upper()})
    assert response.status_code == 302
    assert client.get("/patients/").status_code == 200
    event = AuditEvent.objects.get(action="mfa.verified")
    assert event.detail == {"method": "recovery_code", "recovery_codes_left": 9}
    assert StaticToken.objects.filter(device__user=nurse).count() == 9

    again = password_only(nurse)
    response = again.post("/accounts/mfa/verify/", {"code": codes[0]})
    assert response.status_code == 422
    assert again.get("/patients/").status_code == 302
    assert AuditEvent.objects.get(action="mfa.refused").detail["method"] == "recovery_code"


def test_a_recovery_code_typed_without_its_dash_or_with_spaces_works(nurse):
    make_authenticator(nurse)
    code = mfa.issue_recovery_codes(None, nurse)[3]
    client = password_only(nurse)
    typed = " ".join(code.replace("-", ""))
    assert client.post("/accounts/mfa/verify/", {"code": typed}).status_code == 302


def test_another_persons_recovery_code_does_not_work(nurse, prescriber):
    make_authenticator(nurse)
    make_authenticator(prescriber)
    theirs = mfa.issue_recovery_codes(None, prescriber)
    response = password_only(nurse).post("/accounts/mfa/verify/", {"code": theirs[0]})
    assert response.status_code == 422
    assert StaticToken.objects.filter(device__user=prescriber).count() == 10


def test_new_codes_replace_the_old_ones_and_are_shown_only_in_that_answer(nurse):
    device = make_authenticator(nurse)
    old = mfa.issue_recovery_codes(None, nurse)
    client = fully_signed_in(nurse, device)

    page = client.get("/accounts/mfa/recovery-codes/")
    assert page.status_code == 200
    assert b'id="codes-left">10<' in page.content
    assert not any(code.encode() in page.content for code in old)

    response = client.post("/accounts/mfa/recovery-codes/")
    assert response.status_code == 200
    new = response.context["codes"]
    assert len(new) == mfa.RECOVERY_CODE_COUNT
    assert set(new).isdisjoint(old)
    stored = set(StaticToken.objects.filter(device__user=nurse).values_list("token", flat=True))
    assert stored == set(new)
    again = client.get("/accounts/mfa/recovery-codes/")
    assert not any(code.encode() in again.content for code in new)
    assert AuditEvent.objects.filter(action="mfa.recovery_codes_issued", actor=nurse).count() == 2


def test_an_unverified_session_cannot_make_new_codes(nurse):
    make_authenticator(nurse)
    old = mfa.issue_recovery_codes(None, nurse)
    response = password_only(nurse).post("/accounts/mfa/recovery-codes/")
    assert response.status_code == 302
    stored = set(StaticToken.objects.filter(device__user=nurse).values_list("token", flat=True))
    assert stored == set(old)


def test_recovery_codes_use_an_unambiguous_alphabet():
    for _ in range(200):
        code = mfa.new_recovery_code()
        assert len(code) == 11
        assert code[5] == "-"
        assert not set(code) & set("01ilo")
