"""Each setting that would leak a patient's name or mislead them fails ``check --deploy``."""

from __future__ import annotations

import pytest
from django.core.checks import ERROR
from django.test import override_settings

from ketaclinic.web.checks import check_email_backend, check_site_url

GOOD_EMAIL = "django.core.mail.backends.smtp.EmailBackend"
GOOD_SITE = "https://clinic.example.org"


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.mail.backends.console.EmailBackend",
        "django.core.mail.backends.filebased.EmailBackend",
    ],
)
def test_an_email_backend_that_writes_messages_out_is_an_error(backend):
    with override_settings(EMAIL_BACKEND=backend):
        [error] = check_email_backend()
    assert error.level == ERROR
    assert error.id == "ketaclinic.E001"
    assert "patients' names" in error.msg


def test_a_real_email_backend_passes():
    with override_settings(EMAIL_BACKEND=GOOD_EMAIL):
        assert check_email_backend() == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000",
        "http://localhost:8000",
        "https://localhost",
        "https://127.0.0.2/",
        "https://[::1]:8443",
        "https://0.0.0.0",
        "https://ketaclinic.localhost",
        "",
    ],
)
def test_a_local_site_url_is_an_error(url):
    with override_settings(SITE_URL=url):
        [error] = check_site_url()
    assert (error.level, error.id) == (ERROR, "ketaclinic.E002")


def test_a_plain_http_site_url_is_an_error():
    with override_settings(SITE_URL="http://clinic.example.org"):
        [error] = check_site_url()
    assert (error.level, error.id) == (ERROR, "ketaclinic.E003")


@pytest.mark.parametrize("url", [GOOD_SITE, "https://10.1.2.3", "https://clinic.example.org:8443"])
def test_a_public_https_site_url_passes(url):
    with override_settings(SITE_URL=url):
        assert check_site_url() == []
