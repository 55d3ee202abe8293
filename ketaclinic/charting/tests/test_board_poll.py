"""The board poll is cheap: a client that shows the floor's current version gets 204 (htmx
keeps the board), nothing audited; any change gives the new rows; the cost of the board does
not grow with the length of the sessions on it."""

from __future__ import annotations

import datetime as dt
import re
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.charting import board
from ketaclinic.charting.models import VitalReading
from ketaclinic.charting.tests.floor import floor_of, monitor_in, post_vitals, reading
from ketaclinic.conftest import signed_in

POLL = {"HX-Request": "true"}


@pytest.fixture
def floor(prescriber, nurse):
    return floor_of(2, prescriber, nurse)


def shown_version(body: str) -> str:
    return re.search(r'hx-get="/board/\?v=([0-9a-f]+)"', body).group(1)


def test_a_poll_of_an_unchanged_floor_is_answered_204_and_writes_no_audit_row(floor, nurse):
    client = signed_in(nurse)
    page = client.get("/board/")
    version = shown_version(page.content.decode())
    assert page["X-Board-Version"] == version
    audited = AuditEvent.objects.filter(action="board.view").count()

    response = client.get(f"/board/?v={version}", headers=POLL)

    assert response.status_code == 204
    assert response.content == b""
    assert AuditEvent.objects.filter(action="board.view").count() == audited


def test_a_new_reading_changes_the_version_and_the_poll_gets_the_new_rows(floor, nurse):
    client = signed_in(nurse)
    version = shown_version(client.get("/board/").content.decode())
    _, token = monitor_in(floor[0].chair)
    post_vitals(floor[0].pk, token, {"readings": [reading(1, systolic_mmhg=204)]})

    response = client.get(f"/board/?v={version}", headers=POLL)

    body = response.content.decode()
    assert response.status_code == 200
    assert "BP <b>204/80</b>" in body
    assert shown_version(body) != version
    assert AuditEvent.objects.filter(action="board.view").latest("pk").detail["partial"] is True


def test_striking_out_a_reading_or_the_clock_moving_on_changes_the_version(floor, nurse):
    client = signed_in(nurse)
    _, token = monitor_in(floor[0].chair)
    post_vitals(floor[0].pk, token, {"readings": [reading(1, systolic_mmhg=204)]})
    now = timezone.now()
    before = board.floor_version(now)
    struck = VitalReading.objects.filter(session=floor[0]).latest("pk")
    response = client.post(
        f"/sessions/{floor[0].pk}/entries/vitals/{struck.pk}/error/",
        {"reason": "Cuff on the wrong arm"},
    )
    assert response.status_code in (200, 302), response.content[:300]

    assert board.floor_version(now) != before
    later = now + dt.timedelta(seconds=board.VERSION_SECONDS)
    assert board.floor_version(later) != board.floor_version(now)


def test_a_full_page_load_ignores_the_version_and_renders(floor, nurse):
    client = signed_in(nurse)
    version = shown_version(client.get("/board/").content.decode())

    assert client.get(f"/board/?v={version}").status_code == 200


def add_readings(session, count: int) -> None:
    now = timezone.now()
    VitalReading.objects.bulk_create(
        VitalReading(
            session=session,
            source="device",
            at=now - dt.timedelta(seconds=n),
            heart_rate_bpm=70 + n % 9,
            spo2_pct=97,
            **({"systolic_mmhg": 130, "diastolic_mmhg": 80} if n % 300 == 0 else {}),
        )
        for n in range(count)
    )


def queries(client, url: str, **headers) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, headers=headers).status_code in (200, 204)
    return len(captured)


def test_board_and_poll_query_counts_are_the_same_at_10_and_at_7200_readings(floor, nurse):
    client = signed_in(nurse)
    add_readings(floor[0], 10)
    add_readings(floor[1], 10)
    small = queries(client, "/board/"), queries(client, "/board/", **POLL)
    with mock.patch.object(board, "board_rows", wraps=board.board_rows) as built:
        version = client.get("/board/", headers=POLL)["X-Board-Version"]
        # session, user, then the version: the running sessions, then every mark in one query
        assert queries(client, f"/board/?v={version}", **POLL) == 4
        assert built.call_count == 1, "the 204 answer built no rows"

    add_readings(floor[0], 7200 - 10)
    large = queries(client, "/board/"), queries(client, "/board/", **POLL)
    polled = client.get("/board/", headers=POLL)
    body = polled.content.decode()
    assert queries(client, f"/board/?v={polled['X-Board-Version']}", **POLL) == 4

    assert small == large
    assert "HR <b>" in body
