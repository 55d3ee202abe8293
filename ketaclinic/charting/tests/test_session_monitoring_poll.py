"""The page's 30-second poll answers with the vitals and alerts panels exactly as the page
shows them, reads only what they need, and costs the same queries at 10 and at 7,200
readings (204, nothing rendered, when nothing changed)."""

from __future__ import annotations

import datetime as dt
import difflib
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketaclinic.charting import in_error_service, vitals_service
from ketaclinic.charting.models import VitalReading
from ketaclinic.charting.session_record import current_marker
from ketaclinic.charting.tests.session_makers import open_session, request_by, started
from ketaclinic.conftest import signed_in


@pytest.fixture
def session(patient_a, prescriber, nurse):
    return started(open_session(patient_a, prescriber, nurse), nurse, prescriber, minutes_ago=40)


def monitor(session, count: int) -> None:
    """A monitor at 1 Hz from the start of dosing, a blood pressure every 5 minutes."""
    VitalReading.objects.bulk_create(
        VitalReading(
            session=session,
            at=session.dose_started_at + dt.timedelta(seconds=n),
            source="device",
            heart_rate_bpm=70 + n % 5,
            spo2_pct=97,
            **({"systolic_mmhg": 124, "diastolic_mmhg": 80} if n % 300 == 0 else {}),
        )
        for n in range(count)
    )


def panel(html: str, panel_id: str) -> str:
    """One panel's markup, the per-render CSRF tokens and the out-of-band mark left out."""
    start = html.index(f'id="{panel_id}"')
    start = html.rindex("<section", 0, start)
    section = html[start : html.index("</section>", start)]
    section = section.replace(' hx-swap-oob="true"', "")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", section)


def difference(shown: str, polled_panel: str) -> str:
    lines = difflib.unified_diff(shown.splitlines(), polled_panel.splitlines(), lineterm="", n=0)
    return "\n".join(lines)


def test_the_poll_shows_the_panels_as_the_page_does(session, nurse):
    monitor(session, 1200)
    nurse_request = request_by(nurse)
    vitals_service.vitals_enter(
        request=nurse_request, session=session, values={"systolic_mmhg": 186, "diastolic_mmhg": 112}
    )
    struck = VitalReading.objects.filter(session=session).order_by("at").last()
    vitals_service.vitals_enter(request=nurse_request, session=session, values={"spo2_pct": 96})
    in_error_service.entry_mark_in_error(
        request=nurse_request,
        session=session,
        kind="vitals",
        entry_id=struck.pk,
        reason="Cuff slipped",
    )
    client = signed_in(nurse)

    page = client.get(f"/sessions/{session.pk}/").content.decode()
    poll = client.get(f"/sessions/{session.pk}/monitoring/?since=old").content.decode()

    assert "Blood pressure high" in panel(page, "panel-alerts")
    assert "Cuff slipped" in panel(page, "panel-vitals")
    for panel_id in ("panel-vitals", "panel-alerts"):
        shown, polled_panel = panel(page, panel_id), panel(poll, panel_id)
        assert polled_panel == shown, difference(shown, polled_panel)


def polled(client, url: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    return response.status_code, len(captured)


def test_the_poll_costs_the_same_queries_at_10_and_at_7200_readings(session, nurse):
    client = signed_in(nurse)
    monitor(session, 10)
    changed = f"/sessions/{session.pk}/monitoring/?since=old"
    client.get(changed)  # warm the sign-in session and the permission caches
    small = polled(client, changed), polled(client, f"{changed[:-3]}{current_marker(session)}")

    monitor_from = VitalReading.objects.filter(session=session).count()
    VitalReading.objects.bulk_create(
        VitalReading(
            session=session,
            at=session.dose_started_at + dt.timedelta(seconds=n, milliseconds=500),
            source="device",
            heart_rate_bpm=72,
        )
        for n in range(7200 - monitor_from)
    )
    client.get(changed)  # the activity stamp may fall due while 7,200 rows are written
    large = polled(client, changed), polled(client, f"{changed[:-3]}{current_marker(session)}")

    assert [status for status, _ in small] == [200, 204]
    assert small == large
