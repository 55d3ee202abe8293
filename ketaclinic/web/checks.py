"""Deploy checks: production refuses settings that would leak patient data or mislead them.

Registered with ``deploy=True`` and reported as errors, so ``manage.py check --deploy`` (which
the release runs before starting) fails. A reminder email names the patient: the console and
file backends would write it to a log or a disk, and a localhost ``SITE_URL`` puts links in
those emails that lead nowhere.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, register

LEAKING_EMAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend": "prints every message to the log",
    "django.core.mail.backends.filebased.EmailBackend": "writes every message to a file",
}
LOCAL_HOSTNAMES = {"localhost", "localhost.localdomain", "testserver", ""}


@register(Tags.security, deploy=True)
def check_email_backend(app_configs=None, **kwargs) -> list[Error]:
    backend = settings.EMAIL_BACKEND
    if backend not in LEAKING_EMAIL_BACKENDS:
        return []
    return [
        Error(
            f"EMAIL_BACKEND is {backend}, which {LEAKING_EMAIL_BACKENDS[backend]}; "
            "reminders carry patients' names.",
            hint="Set EMAIL_BACKEND to django.core.mail.backends.smtp.EmailBackend "
            "(with EMAIL_HOST and credentials) or another real backend.",
            id="ketaclinic.E001",
        )
    ]


@register(Tags.security, deploy=True)
def check_site_url(app_configs=None, **kwargs) -> list[Error]:
    url = settings.SITE_URL
    parts = urlsplit(url)
    hint = "Set SITE_URL to the clinic's public address, e.g. https://clinic.example.org."
    if is_local_host(parts.hostname or ""):
        return [
            Error(
                f"SITE_URL is {url!r}: links in patients' emails and texts would lead nowhere.",
                hint=hint,
                id="ketaclinic.E002",
            )
        ]
    if parts.scheme != "https":
        return [
            Error(
                f"SITE_URL is {url!r}: patients' links must use https.",
                hint=hint,
                id="ketaclinic.E003",
            )
        ]
    return []


def is_local_host(hostname: str) -> bool:
    hostname = hostname.lower().rstrip(".")
    if hostname in LOCAL_HOSTNAMES or hostname.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(hostname)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified
