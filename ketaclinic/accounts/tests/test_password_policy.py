"""Passwords: at least 12 characters, common ones refused, no composition rules (NIST 800-63B)."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from ketaclinic.conftest import PASSWORD, signed_in


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short-pass1", "too short"),
        ("password1234", "too common"),
        ("123456789012", "entirely numeric"),
    ],
)
def test_weak_passwords_are_refused(db, password, reason):
    with pytest.raises(ValidationError) as caught:
        validate_password(password)
    assert reason in " ".join(caught.value.messages)


def test_a_long_passphrase_without_symbols_or_capitals_is_accepted(db):
    validate_password("river otter pancake lantern")


def test_changing_to_a_short_password_is_refused_and_keeps_the_old_one(nurse):
    client = signed_in(nurse)
    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": "tiny", "new_password2": "tiny"},
    )
    assert response.status_code == 200
    assert b"too short" in response.content
    nurse.refresh_from_db()
    assert nurse.check_password(PASSWORD)


def test_production_settings_hash_passwords_with_argon2():
    from ketaclinic import settings as production

    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    hasher = Argon2PasswordHasher()
    assert hasher.encode("river otter pancake lantern", hasher.salt()).startswith("argon2")


def test_changing_to_a_good_password_works(nurse):
    client = signed_in(nurse)
    new = "river otter pancake lantern"
    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    nurse.refresh_from_db()
    assert nurse.check_password(new)
