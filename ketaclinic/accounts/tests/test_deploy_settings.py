"""With production settings from the environment, `check --deploy` reports nothing."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def run_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    ignored = {"DEBUG", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in ignored}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check():
    result = run_check(
        {
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(60),
            "ALLOWED_HOSTS": "clinic.example.org",
        }
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_debug_mode_fails_the_deploy_check():
    result = run_check({"DEBUG": "1", "SECRET_KEY": secrets.token_urlsafe(60)})
    assert result.returncode != 0
    assert "DEBUG" in result.stderr
