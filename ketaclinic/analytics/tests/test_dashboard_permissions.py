"""Clinic admins and prescribers see the dashboard; nobody else (front desk included)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from ketaclinic.conftest import signed_in

URLS = [reverse("analytics:dashboard"), reverse("analytics:cohort_csv")]


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("prescriber", 200),
        ("clinic_admin", 200),
        ("nurse", 403),
        ("therapist", 403),
        ("front_desk", 403),
        ("patient_a", 403),
        ("outsider", 403),
    ],
)
def test_who_may_see_the_dashboard(cast, url, who, status):
    assert signed_in(cast[who]).get(url).status_code == status


@pytest.mark.parametrize("url", URLS)
def test_anonymous_visitors_are_sent_to_sign_in(db, url):
    response = Client().get(url)

    assert response.status_code == 302
    assert reverse("accounts:login") in response.url


def test_the_nav_shows_the_dashboard_and_worklist_only_to_those_allowed(cast):
    prescriber = signed_in(cast["prescriber"]).get(reverse("outcomes:worklist")).content.decode()
    nurse = signed_in(cast["nurse"]).get(reverse("outcomes:worklist")).content.decode()

    assert 'href="/dashboard/">Dashboard' in prescriber
    assert 'href="/outcomes/worklist/">Worklist' in prescriber
    assert 'href="/dashboard/">Dashboard' not in nurse
    assert 'href="/outcomes/worklist/">Worklist' in nurse


def test_the_dashboard_view_is_audited(cast):
    from ketaclinic.audit.models import AuditEvent

    signed_in(cast["clinic_admin"]).get(URLS[0], {"indication": "trd"})

    event = AuditEvent.objects.get(action="dashboard.view")
    assert event.detail["filters"]["indication"] == "trd"
