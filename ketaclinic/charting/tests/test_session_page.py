"""The session page: banner, checklist, administration with the computed total, flow sheet
with due/overdue checks, alerts, observations, discharge. Reads are audited, another
patient's session is 404, and the page costs the same number of queries however long the
session runs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketaclinic.charting import administration_service, discharge_service, vitals_service
from ketaclinic.charting.models import VitalReading
from ketaclinic.charting.tests.session_makers import (
    ago,
    last_event,
    open_session,
    request_by,
    started,
)
from ketaclinic.conftest import signed_in


@pytest.fixture
def session(patient_a, prescriber, nurse):
    return started(open_session(patient_a, prescriber, nurse), nurse, prescriber, minutes_ago=35)


def page(user, session):
    return signed_in(user).get(f"/sessions/{session.pk}/")


def add_readings(session, count: int):
    start = session.dose_started_at
    VitalReading.objects.bulk_create(
        VitalReading(
            session=session,
            at=start + dt.timedelta(seconds=10 * n),
            source="device",
            systolic_mmhg=120 + n % 7,
            diastolic_mmhg=78,
            heart_rate_bpm=70 + n % 5,
            spo2_pct=98,
        )
        for n in range(count)
    )


def test_the_page_shows_the_session_as_a_nurse_needs_it(session, nurse):
    response = page(nurse, session)

    assert response.status_code == 200
    body = response.content.decode()
    assert "IV session 1" in body
    assert session.patient.full_name in body
    assert "planned <strong>35 mg</strong> at 0.88 mg/min over 40 min" in body
    assert 'id="delivered-mg"' in body
    assert "computed from the record below, never typed" in body
    assert "BP during the infusion" in body
    assert "Emory ketamine service protocol, 2018" in body
    assert "closed at the start of dosing" in body
    event = last_event("session.view")
    assert (event.actor, event.patient_id, event.detail) == (
        nurse,
        session.patient_id,
        {"section": "session"},
    )


def test_the_flow_sheet_marks_due_and_overdue_checks(session, nurse):
    body = page(nurse, session).content.decode()

    # Started 35 min ago with one reading before dosing: the 0, 10, 20 min checks are overdue,
    # the 30 min one is closed too (2 min tolerance), the next is upcoming.
    assert body.count('data-status="overdue"') == 4
    assert 'data-status="upcoming"' in body


def test_a_reading_in_time_marks_its_check_done(session, nurse):
    vitals_service.vitals_enter(
        request=request_by(nurse),
        session=session,
        values={"systolic_mmhg": 126, "diastolic_mmhg": 80},
        at=session.dose_started_at + dt.timedelta(minutes=10),
    )

    body = page(nurse, session).content.decode()
    assert body.count('data-status="done"') == 1


def test_a_therapist_reads_the_session_without_forms(session, therapist):
    body = page(therapist, session).content.decode()

    assert "Record vital signs" not in body
    assert "Record infusion event" not in body


def test_another_patients_session_is_404(session, outsider, patient_b, front_desk):
    assert page(outsider, session).status_code == 404
    assert page(patient_b.user, session).status_code == 404
    assert page(session.patient.user, session).status_code == 403
    assert page(front_desk, session).status_code == 403
    assert signed_in(outsider).get("/sessions/999999/").status_code == 404


def test_the_query_count_does_not_grow_with_the_session(session, nurse):
    client = signed_in(nurse)
    add_readings(session, 10)
    client.get(f"/sessions/{session.pk}/")  # warm the session and permission caches
    with CaptureQueriesContext(connection) as short:
        assert client.get(f"/sessions/{session.pk}/").status_code == 200

    add_readings(session, 190)
    with CaptureQueriesContext(connection) as long:
        response = client.get(f"/sessions/{session.pk}/")

    assert response.status_code == 200
    body = response.content.decode()
    sheet = body[
        body.index('id="flow-sheet"') : body.index("</table>", body.index('id="flow-sheet"'))
    ]
    assert sheet.count("<tr class=") == 30, "one page of the flow sheet, not every reading"
    total = VitalReading.objects.filter(session=session).count()  # with the pre-dose one
    assert f"{total} readings · page 1 of 7" in body
    assert len(long.captured_queries) == len(short.captured_queries)


def test_the_page_stays_within_a_fixed_query_budget(session, nurse, django_assert_max_num_queries):
    add_readings(session, 200)
    client = signed_in(nurse)
    client.get(f"/sessions/{session.pk}/")

    # Sign-in 2, session 2, audit 5, the record's 12 lists.
    with django_assert_max_num_queries(21):
        client.get(f"/sessions/{session.pk}/")


def test_the_open_checklist_reads_the_record_within_a_fixed_budget(
    patient_b, prescriber, nurse, django_assert_max_num_queries
):
    session = open_session(patient_b, prescriber, nurse)
    client = signed_in(nurse)
    client.get(f"/sessions/{session.pk}/")

    # As above, plus screening, record snapshot, weight, PHQ-9, consent and the clinician list.
    with django_assert_max_num_queries(28):
        client.get(f"/sessions/{session.pk}/")


def test_a_session_still_in_checklist_shows_the_gate(patient_b, prescriber, nurse):
    session = open_session(patient_b, prescriber, nurse)

    body = page(nurse, session).content.decode()

    assert 'id="gate-state"' in body
    assert "block the start" in body
    assert "Start dosing" in body
    assert "Source: Clinic policy (two clinicians check the dose)" in body


def test_a_prescriber_sees_the_override_forms(patient_b, prescriber, nurse):
    session = open_session(patient_b, prescriber, nurse)

    assert "Override (prescriber)" in page(prescriber, session).content.decode()
    assert "Override (prescriber)" not in page(nurse, session).content.decode()


def test_a_discharged_session_reads_back_with_its_instructions(patient_b, prescriber, nurse):
    session = started(
        open_session(patient_b, prescriber, nurse), nurse, prescriber, minutes_ago=150
    )
    administration_service.infusion_record(
        request=request_by(nurse), session=session, kind="stop", at=ago(110)
    )
    session.refresh_from_db()
    criteria = {
        c: True for c in ("vitals_at_baseline", "alert_and_oriented", "little_or_no_nausea")
    }
    criteria |= {"responsible_adult_present": True, "driving_instructions_given": True}
    discharge_service.discharge_sign(
        request=request_by(nurse), session=session, criteria=criteria, whom_to_call="Clinic line"
    )

    body = page(nurse, session).content.decode()
    assert 'id="discharge-signed"' in body
    assert "after 110 min of observation" in body
    assert "No driving for the rest of the day." in body
    assert "Print the instructions" in body
    assert "Record vital signs" not in body
