"""MFA_REQUIRED defaults: on with SECURE_MODE (production), off for the local demo; turning
it off in production is a `check --deploy` warning."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

from .test_deploy_settings import ROOT, run_check


def setting_with(env: dict[str, str]) -> str:
    ignored = {"DEBUG", "SECRET_KEY", "SECURE_MODE", "MFA_REQUIRED", "DATABASE_URL"}
    clean = {k: v for k, v in os.environ.items() if k not in ignored}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.MFA_REQUIRED)",
        ],
        cwd=ROOT,
        env=clean | {"DJANGO_SETTINGS_MODULE": "ketaclinic.settings"} | env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_mfa_is_required_by_default_in_production():
    assert setting_with({"SECRET_KEY": secrets.token_urlsafe(60)}) == "True"


def test_mfa_is_off_by_default_for_the_local_demo():
    assert setting_with({}) == "False"


def test_the_environment_can_turn_it_on_for_the_demo():
    assert setting_with({"MFA_REQUIRED": "1"}) == "True"


def test_turning_mfa_off_in_production_is_a_deploy_warning():
    result = run_check(
        {
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(60),
            "ALLOWED_HOSTS": "clinic.example.org",
            "MFA_REQUIRED": "0",
        }
    )
    assert result.returncode != 0
    assert "accounts.W001" in result.stderr
    assert "MFA_REQUIRED is off" in result.stderr
