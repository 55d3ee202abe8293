"""The live treatment-floor board: every running session by chair, with the infusion, newest
vitals, open alerts and due checks; refreshed by an HTMX poll of the rows; a fixed number of
queries however many chairs are running; clinicians only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from playwright.sync_api import expect

from ketaclinic.audit.models import AuditEvent
from ketaclinic.charting.board import SessionFacts, board_rows, infusion_of
from ketaclinic.charting.models import InfusionEvent, SessionStatus
from ketaclinic.charting.tests.floor import (
    floor_of,
    make_chairs,
    make_session,
    monitor_in,
    post_vitals,
    reading,
)
from ketaclinic.conftest import make_patient, signed_in

NOW = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)


def ago(minutes: float) -> dt.datetime:
    return NOW - dt.timedelta(minutes=minutes)


def facts(**overrides) -> SessionFacts:
    values = {
        "session_id": 7,
        "chair": "Chair 1",
        "room": "Suite",
        "given_name": "Ada",
        "family_name": "Alvarez",
        "mrn": "KC0000007",
        "route": "iv",
        "status": "dosing",
        "opened_at": ago(50),
        "dose_started_at": ago(35),
    }
    return SessionFacts(**(values | overrides))


# ---------------------------------------------------------------- the pure rows


def test_a_row_shows_initials_mrn_elapsed_time_and_links_to_the_session():
    (row,) = board_rows([facts()], NOW)

    assert (row.patient, row.mrn, row.chair, row.room) == ("A.A.", "KC0000007", "Chair 1", "Suite")
    assert (row.elapsed_minutes, row.dose_minutes) == (50, 35)
    assert row.elapsed_text == "50 min"
    assert row.url == "/sessions/7/"
    assert "Alvarez" not in repr(row)


@pytest.mark.parametrize(
    ("events", "state", "rate", "text"),
    [
        ((), "not started", None, "not started"),
        ((("start", Decimal("0.9")),), "running", Decimal("0.9"), "0.9 mg/min"),
        (
            (("start", Decimal("0.9")), ("rate_change", Decimal("0.45"))),
            "running",
            Decimal("0.45"),
            "0.45 mg/min",
        ),
        (
            (("start", Decimal("0.9")), ("pause", None)),
            "paused",
            Decimal("0.9"),
            "paused (was 0.9 mg/min)",
        ),
        (
            (("start", Decimal("0.9")), ("pause", None), ("resume", None)),
            "running",
            Decimal("0.9"),
            "0.9 mg/min",
        ),
        ((("start", Decimal("0.9")), ("stop", None)), "stopped", Decimal("0.9"), "stopped"),
    ],
)
def test_the_infusion_is_as_the_latest_event_left_it(events, state, rate, text):
    infusion = infusion_of(events, "iv")

    assert (infusion.state, infusion.rate_mg_per_min, infusion.text) == (state, rate, text)


def test_last_vitals_take_the_newest_value_of_each_sign_and_say_how_old():
    readings = (
        (ago(9), {"systolic_mmhg": 142, "diastolic_mmhg": 88, "heart_rate_bpm": 80}),
        (ago(2), {"heart_rate_bpm": 84, "spo2_pct": 97}),
    )

    (row,) = board_rows([facts(readings=readings)], NOW)

    vitals = row.last_vitals
    assert vitals.bp == "142/88"
    assert (vitals.values["heart_rate_bpm"], vitals.values["spo2_pct"]) == (84, 97)
    assert (vitals.age_minutes, vitals.bp_age_minutes, vitals.stale) == (2, 9, False)


def test_vitals_older_than_fifteen_minutes_are_stale():
    (row,) = board_rows([facts(readings=((ago(16), {"spo2_pct": 97}),))], NOW)

    assert row.last_vitals.stale


def test_open_alerts_are_critical_first_and_colour_the_row():
    sustained = "186/90 mmHg, beyond the limit on every reading for 6 min (limit 180/110)"
    alerts = (
        ("hypoxemia", "warning", "oxygen", "91% (limit 92)", ago(1)),
        ("bp_critical", "critical", "stop", "204/90 mmHg (limit 200/120)", ago(6)),
        ("bp_high_sustained", "critical", "pause", sustained, ago(3)),
    )

    (row,) = board_rows([facts(open_alerts=alerts)], NOW)

    assert [a.code for a in row.alerts] == ["bp_high_sustained", "bp_critical", "hypoxemia"]
    assert row.alerts[0].label == "Blood pressure high, sustained"
    assert row.alerts[0].finding_text == sustained
    assert (row.alerts[1].label, row.alerts[1].finding_text) == (
        "Blood pressure very high",
        "204/90 mmHg (limit 200/120)",
    )
    assert row.level == "critical"


def test_overdue_checks_are_grouped_and_warn():
    # Infusion started 35 min ago: BP due 35, 25, 15 and 5 min ago (± 2 min), and in 5 min.
    readings = ((ago(25), {"systolic_mmhg": 130, "diastolic_mmhg": 80}),)

    (row,) = board_rows([facts(readings=readings)], NOW)

    (overdue,) = row.checks
    assert (overdue.status, overdue.count, overdue.label) == (
        "overdue",
        3,
        "BP during the infusion",
    )
    assert overdue.due_at == ago(35)
    assert row.next_check.due_at == ago(-5)
    assert row.level == "warning"


def test_a_check_in_its_window_is_due_now():
    # Due 41, 31, 21, 11 and 1 min ago: the first four done, the last one's window still open.
    readings = tuple(
        (ago(m), {"systolic_mmhg": 130, "diastolic_mmhg": 80}) for m in (41, 31, 21, 11)
    )

    (row,) = board_rows([facts(readings=readings, dose_started_at=ago(41))], NOW)

    assert [(c.status, c.count) for c in row.checks] == [("due", 1)]
    assert row.level == "ok"


def test_checks_wait_for_dosing_and_for_a_route_with_a_schedule():
    waiting, im = board_rows(
        [facts(status="checklist", dose_started_at=None), facts(route="im")], NOW
    )

    assert (waiting.checks, waiting.checks_note) == ((), "checks start with dosing")
    assert im.checks_note == "no monitoring schedule for IM"


# ---------------------------------------------------------------- the page


@pytest.fixture
def floor(prescriber, nurse):
    return floor_of(2, prescriber, nurse)


def test_the_board_shows_every_running_session_by_chair(floor, nurse, prescriber, patient_a):
    _, token = monitor_in(floor[0].chair)
    post_vitals(floor[0].pk, token, {"readings": [reading(7), reading(1, systolic_mmhg=204)]})
    (spare,) = make_chairs(1, room="Quiet room")
    done = make_session(
        patient=patient_a, prescriber=prescriber, nurse=nurse, chair=spare, status="discharged"
    )

    response = signed_in(nurse).get("/board/")

    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("Chair 01") < page.index("Chair 02")
    for session in floor:
        assert f'href="/sessions/{session.pk}/"' in page
        assert session.patient.mrn in page
        assert session.patient.family_name not in page
    assert f"/sessions/{done.pk}/" not in page
    assert "BP <b>204/80</b>" in page
    assert "Blood pressure very high" in page
    assert "204/80 mmHg (limit 200/120)" in page
    assert "bp_critical" not in page
    assert "stop the infusion" in page
    assert "0.9 mg/min" in page
    assert 'hx-trigger="every 5s"' in page
    assert "2 sessions running" in page


def test_the_poll_gets_the_rows_without_the_page(floor, nurse):
    client = signed_in(nurse)
    client.get("/board/")
    InfusionEvent.objects.create(
        session=floor[1], kind="pause", at=timezone.now(), recorded_by=nurse
    )

    response = client.get("/board/", headers={"HX-Request": "true"})

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="board"')
    assert "<html" not in body
    assert "paused (was 0.9 mg/min)" in body


def test_a_session_leaving_the_floor_leaves_the_board(floor, nurse):
    client = signed_in(nurse)
    floor[0].status = SessionStatus.DISCHARGED
    floor[0].save(update_fields=["status"])

    body = client.get("/board/", headers={"HX-Request": "true"}).content.decode()

    assert f"/sessions/{floor[0].pk}/" not in body
    assert "1 session running" in body


def queries_for(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/board/", headers={"HX-Request": "true"}).status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_floor(
    prescriber, nurse, django_assert_max_num_queries
):
    def furnish(sessions):
        for session in sessions:
            _, token = monitor_in(session.chair)
            body = {
                "readings": [reading(m, spo2_pct=90 if m == 5 else 97) for m in range(30, 0, -5)]
            }
            post_vitals(session.pk, token, body)

    client = signed_in(nurse)
    two = floor_of(2, prescriber, nurse)
    furnish(two)
    small = queries_for(client)
    more = [
        make_session(
            patient=make_patient("More", f"Patient{n}"),
            prescriber=prescriber,
            nurse=nurse,
            chair=chair,
        )
        for n, chair in enumerate(make_chairs(18, room="Second suite"))
    ]
    furnish(more)

    # One more than the sessions' six: the patients checked in and waiting.
    with django_assert_max_num_queries(13):
        body = client.get("/board/", headers={"HX-Request": "true"}).content.decode()
    assert queries_for(client) == small
    assert body.count("<tr class=") == 20
    assert body.count("Oxygen saturation low") == 20


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("prescriber", 200),
        ("nurse", 200),
        ("therapist", 200),
        ("front_desk", 403),
        ("clinic_admin", 403),
        ("patient_a", 403),
        ("outsider", 403),
    ],
)
def test_clinicians_see_the_board(cast, floor, who, status):
    response = signed_in(cast[who]).get("/board/")

    assert response.status_code == status
    if status == 403:
        assert floor[0].patient.mrn not in response.content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(client, floor):
    response = client.get("/board/")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_each_view_of_the_board_is_audited(floor, nurse):
    signed_in(nurse).get("/board/", headers={"HX-Request": "true"})

    event = AuditEvent.objects.get(action="board.view")
    assert event.actor_id == nurse.pk
    assert event.detail == {"sessions": [s.pk for s in floor], "waiting": [], "partial": True}


def test_the_nav_links_to_the_board_for_clinicians_only(nurse, front_desk):
    assert 'href="/board/"' in signed_in(nurse).get("/patients/").content.decode()
    assert 'href="/board/"' not in signed_in(front_desk).get("/patients/").content.decode()


def test_an_empty_floor_says_so(nurse):
    assert "No session is running." in signed_in(nurse).get("/board/").content.decode()


@pytest.mark.browser
def test_the_board_updates_without_reloading(page, prescriber, nurse):
    from ketaclinic.conftest import sign_in

    (session,) = floor_of(1, prescriber, nurse)
    _, token = monitor_in(session.chair)
    sign_in(page, "nurse")
    page.goto("/board/")
    row = page.locator(f"tr[data-session='{session.pk}']")
    assert "no readings yet" in row.inner_text()
    page.evaluate("window.loadedAt = performance.timeOrigin")

    post_vitals(session.pk, token, reading(0, spo2_pct=86))

    # Polled from Python: a predicate evaluated in the page would need 'unsafe-eval' under CSP.
    expect(row).to_contain_text("Oxygen saturation very low", timeout=12_000)
    assert "CRITICAL" in row.inner_text()
    assert "stop the infusion" in row.inner_text()
    assert page.evaluate("window.loadedAt === performance.timeOrigin")  # the page never reloaded
    row.get_by_role("link", name="Chair 01").click()
    page.wait_for_url(f"**/sessions/{session.pk}/")
