"""The API's Swagger page and OpenAPI schema: signed-in staff only, served without a CDN."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from ketaclinic.conftest import signed_in

DOCS = "/api/v1/docs"
SCHEMA = "/api/v1/openapi.json"


@pytest.mark.parametrize("url", [DOCS, SCHEMA])
def test_an_anonymous_caller_is_sent_to_sign_in(db, url):
    response = Client().get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", [DOCS, SCHEMA])
def test_a_patient_is_refused(patient_a, url):
    assert signed_in(patient_a.user).get(url).status_code == 403


def test_staff_read_the_schema(front_desk):
    response = signed_in(front_desk).get(SCHEMA)

    assert response.status_code == 200
    assert "/api/v1/patients" in " ".join(response.json()["paths"])


def test_staff_get_swagger_ui_from_our_own_static_files(nurse):
    response = signed_in(nurse).get(DOCS)

    assert response.status_code == 200
    page = response.content.decode()
    sources = re.findall(r'<script[^>]*\bsrc="([^"]+)"', page)
    styles = re.findall(r'<link[^>]*\bhref="([^"]+\.css)"', page)
    assert sources, page
    assert all(src.startswith("/static/") for src in sources + styles), sources + styles
    assert "cdn" not in page.lower()
    assert "no-store" in response["Cache-Control"]


def test_the_swagger_assets_are_served(nurse):
    # In production whitenoise serves them from STATIC_ROOT after collectstatic; here the
    # finders must at least locate them in the installed package.
    from django.contrib.staticfiles import finders

    assert finders.find("ninja/swagger-ui-bundle.js")
    assert finders.find("ninja/swagger-ui-init.js")
