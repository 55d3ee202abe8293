"""A wrong entry is marked entered-in-error with a reason: the row stays on the chart, the
totals and alerts are computed without it, and nothing is ever deleted."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from ketaclinic.charting import administration_service, in_error_service
from ketaclinic.charting.models import InfusionEvent, RecordStatus, VitalReading
from ketaclinic.charting.tests.session_makers import (
    last_event,
    open_session,
    request_by,
    started,
)
from ketaclinic.conftest import signed_in


@pytest.fixture
def session(patient_a, prescriber, nurse):
    return started(open_session(patient_a, prescriber, nurse), nurse, prescriber, minutes_ago=60)


def at(session, minute):
    return session.dose_started_at + dt.timedelta(minutes=minute)


def test_a_wrong_rate_change_stays_on_the_chart_and_stops_counting(session, nurse):
    wrong = administration_service.infusion_record(
        request=request_by(nurse),
        session=session,
        kind="rate_change",
        rate_mg_per_min=Decimal("1.5"),
        reason="typo",
        at=at(session, 10),
    )

    response = signed_in(nurse).post(
        f"/sessions/{session.pk}/entries/infusion/{wrong.pk}/error/",
        {"reason": "Meant 0.5 mg/min"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    wrong.refresh_from_db()
    assert (wrong.status, wrong.error_reason) == (RecordStatus.ENTERED_IN_ERROR, "Meant 0.5 mg/min")
    assert InfusionEvent.objects.filter(session=session).count() == 2
    total = administration_service.session_delivered(session, at=at(session, 20))
    assert total.total_mg == Decimal("17.60")  # 0.88 mg/min x 20 min, as if never changed
    event = last_event("session.entry_in_error")
    assert event.detail["kind"] == "infusion"
    assert event.detail["reason"] == "Meant 0.5 mg/min"
    assert "entered in error: Meant 0.5 mg/min" in response.content.decode()


def test_an_event_the_record_cannot_do_without_is_refused(session, nurse):
    administration_service.infusion_record(
        request=request_by(nurse), session=session, kind="pause", reason="BP", at=at(session, 10)
    )
    administration_service.infusion_record(
        request=request_by(nurse), session=session, kind="resume", at=at(session, 15)
    )
    pause = InfusionEvent.objects.get(session=session, kind="pause")

    with pytest.raises(ValidationError) as refused:
        in_error_service.entry_mark_in_error(
            request=request_by(nurse),
            session=session,
            kind="infusion",
            entry_id=pause.pk,
            reason="x",
        )

    assert "strike out the later events first" in refused.value.message_dict["entry"][0]
    pause.refresh_from_db()
    assert pause.status == RecordStatus.FINAL


def test_a_reason_is_required(session, nurse):
    row = VitalReading.objects.filter(session=session).first()

    response = signed_in(nurse).post(
        f"/sessions/{session.pk}/entries/vitals/{row.pk}/error/",
        {"reason": ""},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 422
    row.refresh_from_db()
    assert row.status == RecordStatus.FINAL


def test_a_struck_out_reading_stays_with_its_reason(session, nurse):
    row = VitalReading.objects.filter(session=session).first()

    in_error_service.entry_mark_in_error(
        request=request_by(nurse),
        session=session,
        kind="vitals",
        entry_id=row.pk,
        reason="wrong patient's cuff",
    )

    row.refresh_from_db()
    assert (row.status, row.error_reason) == (RecordStatus.ENTERED_IN_ERROR, "wrong patient's cuff")
    assert VitalReading.objects.filter(pk=row.pk).exists()
    with pytest.raises(ValidationError) as refused:
        in_error_service.entry_mark_in_error(
            request=request_by(nurse),
            session=session,
            kind="vitals",
            entry_id=row.pk,
            reason="again",
        )
    assert "already" in refused.value.message_dict["entry"][0]


def test_an_entry_of_another_session_is_not_found(session, nurse, patient_b, prescriber):
    other = started(open_session(patient_b, prescriber, nurse), nurse, prescriber, minutes_ago=60)
    foreign = VitalReading.objects.filter(session=other).first()

    with pytest.raises(ValidationError):
        in_error_service.entry_mark_in_error(
            request=request_by(nurse),
            session=session,
            kind="vitals",
            entry_id=foreign.pk,
            reason="x",
        )
    foreign.refresh_from_db()
    assert foreign.status == RecordStatus.FINAL


def test_an_unknown_kind_is_404_and_outsiders_get_404(session, nurse, outsider):
    row = VitalReading.objects.filter(session=session).first()

    assert (
        signed_in(nurse).post(f"/sessions/{session.pk}/entries/secrets/{row.pk}/error/").status_code
        == 404
    )
    response = signed_in(outsider).post(
        f"/sessions/{session.pk}/entries/vitals/{row.pk}/error/", {"reason": "x"}
    )
    assert response.status_code == 404
    row.refresh_from_db()
    assert row.status == RecordStatus.FINAL
