"""Plotly's JS is served by us from the installed package (never a CDN), cached for a year."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse


def test_plotly_is_served_locally_with_long_cache_headers(db):
    response = Client().get(reverse("plotly_js"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "max-age=31536000" in response["Cache-Control"]
    assert "immutable" in response["Cache-Control"]
    body = b"".join(response.streaming_content)
    assert len(body) > 1_000_000
    assert b"plotly.js v" in body[:200]


def test_pages_load_the_vendored_partial_bundle(prescriber):
    from ketaclinic.conftest import signed_in

    page = signed_in(prescriber).get(reverse("analytics:dashboard")).content.decode()

    assert "/static/vendor/plotly-basic.min.js" in page
