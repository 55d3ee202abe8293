"""A long session's flow sheet: the newest readings a page at a time, the whole session
summarised by interval, and the same queries at 10 and at 7,200 readings."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketaclinic.audit.models import AuditEvent
from ketaclinic.charting.flow_sheet import FLOW_PAGE_ROWS
from ketaclinic.charting.models import VitalReading
from ketaclinic.charting.tests.session_makers import open_session, started
from ketaclinic.conftest import signed_in


@pytest.fixture
def session(patient_a, prescriber, nurse):
    return started(open_session(patient_a, prescriber, nurse), nurse, prescriber, minutes_ago=35)


def add_readings(session, count: int, every_s: float = 1.0) -> None:
    """A monitor's readings from the start of dosing on; a blood pressure every 5 minutes."""
    start = session.dose_started_at
    VitalReading.objects.bulk_create(
        VitalReading(
            session=session,
            at=start + dt.timedelta(seconds=every_s * n),
            source="device",
            heart_rate_bpm=70 + n % 5,
            spo2_pct=98 - n % 3,
            **({"systolic_mmhg": 120 + n % 7, "diastolic_mmhg": 78} if n % 300 == 0 else {}),
        )
        for n in range(count)
    )


def flow_rows(body: str) -> int:
    start = body.index('id="flow-sheet"')
    return body[start : body.index("</table>", start)].count("<tr class=")


def test_the_first_page_shows_the_newest_readings_and_older_pages_the_rest(session, nurse):
    add_readings(session, 100 - VitalReading.objects.filter(session=session).count(), every_s=10)
    client = signed_in(nurse)

    first = client.get(f"/sessions/{session.pk}/").content.decode()
    last = client.get(f"/sessions/{session.pk}/?flow_page=4").content.decode()

    assert flow_rows(first) == FLOW_PAGE_ROWS
    assert "100 readings · page 1 of 4" in first
    assert "?flow_page=2#panel-vitals" in first
    assert flow_rows(last) == 100 - 3 * FLOW_PAGE_ROWS
    assert "Newer readings" in last
    assert "Older readings" not in last
    assert AuditEvent.objects.filter(action="session.view").count() == 2


def test_a_page_past_the_end_or_not_a_number_shows_a_page_that_exists(session, nurse):
    add_readings(session, 40 - VitalReading.objects.filter(session=session).count(), every_s=10)
    client = signed_in(nurse)

    assert "page 2 of 2" in client.get(f"/sessions/{session.pk}/?flow_page=99").content.decode()
    assert "page 1 of 2" in client.get(f"/sessions/{session.pk}/?flow_page=x").content.decode()


def test_the_summary_gives_each_interval_its_count_and_ranges(session, nurse):
    add_readings(session, 1800)  # 30 minutes at 1 Hz

    body = signed_in(nurse).get(f"/sessions/{session.pk}/").content.decode()

    summary = body[body.index('id="flow-summary"') :]
    summary = summary[: summary.index("</table>")]
    assert "By 15 minutes" in body
    assert "96–98%" in summary
    assert "70–74" in summary


def queries(client, url: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), flow_rows(response.content.decode())


def test_the_page_costs_the_same_queries_and_rows_at_10_and_at_7200_readings(session, nurse):
    client = signed_in(nurse)
    add_readings(session, 10)
    client.get(f"/sessions/{session.pk}/")  # warm the session and permission caches
    small = queries(client, f"/sessions/{session.pk}/")

    add_readings(session, 7200 - 10)
    # Warm again: the sign-in session's activity stamp is saved every TOUCH_EVERY_S, and
    # inserting 7,200 rows can take that long on a busy machine.
    client.get(f"/sessions/{session.pk}/")
    large = queries(client, f"/sessions/{session.pk}/")

    assert small[0] == large[0]
    assert large[1] == FLOW_PAGE_ROWS
