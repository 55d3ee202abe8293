"""The test cast: one user per role, two patients with portal logins, and an outsider.

Pure-function tests need none of this; it is here for tests that touch the database.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from hypothesis import settings as hypothesis_settings

from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.patients.models import Patient, Sex, WeightMeasurement

PASSWORD = "correct-horse-battery-staple"

# Tests only: Argon2 spends ~0.35 s per hash by design, and every test creates users.
# Production keeps Argon2 first (accounts/tests/test_password_policy.py checks the setting).
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests only: every test client would otherwise rescan the static folders (~35 ms each);
# the live server for browser tests serves static files itself.
settings.WHITENOISE_USE_FINDERS = False
# Tests never assert wall-clock time (benchmarks do, in bench/): Hypothesis' per-example
# deadline would fail a correct property whenever the 2-core machine is busy.
hypothesis_settings.register_profile("ketaclinic", deadline=None)
hypothesis_settings.load_profile("ketaclinic")


@pytest.fixture(autouse=True)
def audit_checkpoints_apart(settings, tmp_path_factory):
    """Each test signs audit checkpoints into its own file, never into var/."""
    folder = tmp_path_factory.getbasetemp() / "audit-checkpoints"
    settings.AUDIT_CHECKPOINT_PATH = folder / f"{uuid.uuid4().hex}.log"


@pytest.fixture(autouse=True)
def fresh_vital_sign_policy():
    """Each test reads the policy from its own database, not from a rolled-back one."""
    from ketaclinic.charting import policy

    policy.forget()
    yield
    policy.forget()


def make_user(username: str, role: Role, **extra) -> User:
    user = User(username=username, role=role, first_name=username.title(), **extra)
    user.set_password(PASSWORD)
    user.save()
    return user


def make_patient(given: str, family: str, *, user: User | None = None, **extra) -> Patient:
    values = {"date_of_birth": dt.date(1980, 5, 17), "sex": Sex.FEMALE} | extra
    return Patient.objects.create(given_name=given, family_name=family, user=user, **values)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def prescriber(db):
    return make_user("prescriber", Role.PRESCRIBER, credentials="MD")


@pytest.fixture
def nurse(db):
    return make_user("nurse", Role.NURSE, credentials="RN")


@pytest.fixture
def therapist(db):
    return make_user("therapist", Role.THERAPIST)


@pytest.fixture
def front_desk(db):
    return make_user("frontdesk", Role.FRONT_DESK)


@pytest.fixture
def clinic_admin(db):
    return make_user("clinicadmin", Role.CLINIC_ADMIN)


@pytest.fixture
def patient_a(db):
    return make_patient("Ada", "Alvarez", user=make_user("patient_a", Role.PATIENT))


@pytest.fixture
def patient_b(db):
    return make_patient("Ben", "Brooks", user=make_user("patient_b", Role.PATIENT), sex=Sex.MALE)


@pytest.fixture
def outsider(db):
    """A patient-role account with no record of its own: sees nothing."""
    return make_user("outsider", Role.PATIENT)


@pytest.fixture
def cast(prescriber, nurse, therapist, front_desk, clinic_admin, patient_a, patient_b, outsider):
    return {
        "prescriber": prescriber,
        "nurse": nurse,
        "therapist": therapist,
        "front_desk": front_desk,
        "clinic_admin": clinic_admin,
        "patient_a": patient_a.user,
        "patient_b": patient_b.user,
        "outsider": outsider,
    }


@pytest.fixture
def weight_of(nurse):
    def record(patient: Patient, kg: str, days_ago: int = 0) -> WeightMeasurement:
        return WeightMeasurement.objects.create(
            patient=patient,
            weight_kg=Decimal(kg),
            measured_on=timezone.localdate() - dt.timedelta(days=days_ago),
            recorded_by=nurse,
        )

    return record


CHROMIUM = "/usr/bin/chromium"
# Chromium as root on a closed network: no sandbox, no background calls home.
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright; never a downloaded browser."""
    import os
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"browser tests need Debian's chromium at {CHROMIUM}")
        pytest.skip(f"no {CHROMIUM}: apt-get install chromium")
    # Playwright's sync API runs an event loop in this thread; the ORM calls made by
    # fixtures here are ordinary synchronous ones.
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture
def page(chromium, live_server):
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
