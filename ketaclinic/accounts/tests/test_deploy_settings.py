"""With production settings from the environment, `check --deploy` reports nothing."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def run_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    ignored = {
        "DEBUG",
        "DATABASE_URL",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
        "EMAIL_BACKEND",
        "SITE_URL",
        "BEHIND_PROXY",
    }
    clean = {k: v for k, v in os.environ.items() if k not in ignored}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production(**overrides: str) -> dict[str, str]:
    """The environment a clinic sets in production (README, "Production")."""
    return {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "clinic.example.org",
        "SITE_URL": "https://clinic.example.org",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    } | overrides


def test_production_settings_pass_the_deploy_check():
    result = run_check(production())
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_with_the_console_email_and_a_localhost_site_url():
    # Both left at their development defaults (each bad value: web/tests/test_deploy_checks.py).
    env = production()
    del env["EMAIL_BACKEND"], env["SITE_URL"]
    result = run_check(env)
    assert result.returncode != 0
    assert "ketaclinic.E001" in result.stderr
    assert "ketaclinic.E002" in result.stderr


def test_debug_mode_fails_the_deploy_check():
    result = run_check({"DEBUG": "1", "SECRET_KEY": secrets.token_urlsafe(60)})
    assert result.returncode != 0
    assert "DEBUG" in result.stderr
