"""Every HTML response carries the Content-Security-Policy; dynamic responses are no-store."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from ketaclinic.charting.tests.rems_makers import certify, esketamine_session
from ketaclinic.conftest import signed_in

PACKAGE = Path(settings.BASE_DIR) / "ketaclinic"
TEMPLATE_DIRS = [PACKAGE / "templates", *sorted(PACKAGE.glob("*/templates"))]


def directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {
        part.strip().split(" ", 1)[0]: part.strip().partition(" ")[2]
        for part in policy.split(";")
        if part.strip()
    }


def assert_no_store(response) -> None:
    assert "no-store" in response["Cache-Control"], response["Cache-Control"]
    assert "private" in response["Cache-Control"]


# -- Content-Security-Policy ------------------------------------------------------------


def test_the_sign_in_page_carries_the_policy():
    found = directives(Client().get("/accounts/login/"))

    assert found["script-src"].startswith("'self'")
    assert found["frame-ancestors"] == "'none'"
    assert found["object-src"] == "'none'"
    assert found["base-uri"] == "'self'"
    assert found["form-action"] == "'self'"
    assert "'unsafe-inline'" not in found["script-src"]
    assert "'unsafe-eval'" not in found["script-src"]


def test_a_page_with_an_inline_script_names_that_scripts_nonce_in_its_policy(
    prescriber, patient_a, nurse
):
    day = timezone.localdate() - dt.timedelta(days=1)
    certify(prescriber, day)
    session = esketamine_session(patient_a, prescriber, nurse, day=day)

    response = signed_in(nurse).get(f"/sessions/{session.pk}/")

    assert response.status_code == 200
    nonce = re.search(r"'nonce-([^']+)'", directives(response)["script-src"]).group(1)
    assert f'<script nonce="{nonce}">' in response.content.decode()
    assert "htmx-config" in response.content.decode()  # allowEval off


def test_each_response_gets_a_fresh_nonce(prescriber, patient_a, nurse):
    day = timezone.localdate() - dt.timedelta(days=1)
    certify(prescriber, day)
    session = esketamine_session(patient_a, prescriber, nurse, day=day)
    client = signed_in(nurse)

    first = directives(client.get(f"/sessions/{session.pk}/"))["script-src"]
    second = directives(client.get(f"/sessions/{session.pk}/"))["script-src"]

    assert first != second


def template_files() -> list[Path]:
    return [path for folder in TEMPLATE_DIRS for path in folder.rglob("*.html")]


@pytest.mark.parametrize(
    ("pattern", "what"),
    [
        (
            r"<script(?![^>]*\bsrc=)(?![^>]*\bnonce=)(?![^>]*application/json)[^>]*>",
            "inline script",
        ),
        (r"\son[a-z]+\s*=", "inline event handler"),
        (r"\bhx-on", "hx-on (needs eval)"),
        (r"javascript:", "javascript: URL"),
        (r"\bhx-vars=|hx-vals=[\"']js:|hx-trigger=\"[^\"]*\[", "htmx expression (needs eval)"),
    ],
)
def test_no_template_holds_script_the_policy_would_block(pattern, what):
    offenders = [
        str(path.relative_to(settings.BASE_DIR))
        for path in template_files()
        if re.search(pattern, path.read_text())
    ]
    assert offenders == [], f"{what} in {offenders}"


# -- Cache-Control: no-store ------------------------------------------------------------


def test_pages_fragments_and_api_answers_are_not_stored(nurse, patient_a):
    client = signed_in(nurse)

    page = client.get(f"/patients/{patient_a.pk}/")
    fragment = client.get(f"/patients/{patient_a.pk}/tab/weights/", HTTP_HX_REQUEST="true")
    api = client.get(f"/api/v1/patients/{patient_a.pk}")
    refused = Client().get(f"/api/v1/patients/{patient_a.pk}")

    for response in (page, fragment, api, refused):
        assert_no_store(response)
    assert (page.status_code, api.status_code, refused.status_code) == (200, 200, 401)


def test_the_sign_in_page_and_error_pages_are_not_stored(nurse):
    assert_no_store(Client().get("/accounts/login/"))
    assert_no_store(signed_in(nurse).get("/patients/999999/"))


def test_the_cohort_csv_export_is_not_stored(prescriber):
    response = signed_in(prescriber).get("/dashboard/cohort.csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert_no_store(response)


def test_the_rems_pdf_is_not_stored(prescriber, nurse, patient_a):
    pytest.importorskip("fpdf")
    day = timezone.localdate() - dt.timedelta(days=1)
    certify(prescriber, day)
    session = esketamine_session(patient_a, prescriber, nurse, day=day)

    response = signed_in(nurse).get(f"/rems/sessions/{session.pk}/pdf/")

    assert response["Content-Type"] == "application/pdf"
    assert_no_store(response)


def test_a_never_cache_view_ends_up_no_store_too(patient_a):
    # The portal's own never_cache stays in force; the middleware does not weaken it.
    response = Client().get("/portal/questionnaires/link/not-a-token/")
    assert_no_store(response)


def test_the_plotly_bundle_stays_cacheable(nurse):
    response = signed_in(nurse).get("/assets/plotly.min.js")

    if response.status_code == 404:
        pytest.skip("plotly is not installed")
    assert "no-store" not in response["Cache-Control"]
    assert "immutable" in response["Cache-Control"]
