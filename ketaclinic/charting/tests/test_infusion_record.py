"""The infusion record: every rate change with time, reason and who; pause, resume, stop early.

The total delivered is computed from the record (``administration.delivered``), never typed.
Hand-computed example (70 kg, 0.5 mg/kg over 40 min = 35 mg at 0.88 mg/min):

    0–10 min at 0.88 mg/min   8.8 mg
    10–20 min at 0.5 mg/min   5.0 mg
    20–25 min paused          0
    25–35 min at 0.5 mg/min   5.0 mg  (resumed at the rate before the pause)
    stopped early at 35 min   18.8 mg in 30 running minutes
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from ketaclinic.audit.models import Outcome
from ketaclinic.charting import administration_service
from ketaclinic.charting.models import InfusionEvent, SessionStatus
from ketaclinic.charting.tests.session_makers import last_event, open_session, request_by, started
from ketaclinic.conftest import signed_in


@pytest.fixture
def session(patient_a, prescriber, nurse):
    return started(open_session(patient_a, prescriber, nurse), nurse, prescriber, minutes_ago=170)


def at(session, minute: float) -> dt.datetime:
    return session.dose_started_at + dt.timedelta(minutes=minute)


def chart(session, nurse, kind, minute, **values):
    return administration_service.infusion_record(
        request=request_by(nurse), session=session, kind=kind, at=at(session, minute), **values
    )


def test_the_total_follows_rate_changes_pauses_and_an_early_stop(session, nurse):
    chart(session, nurse, "rate_change", 10, rate_mg_per_min=Decimal("0.5"), reason="BP rising")
    chart(session, nurse, "pause", 20, reason="BP 185/112")
    chart(session, nurse, "resume", 25)
    chart(session, nurse, "stop", 35, reason="Patient asked to stop")

    session.refresh_from_db()
    total = administration_service.session_delivered(session)
    assert total.total_mg == Decimal("18.80")
    assert total.infusion_running_minutes == 30
    assert total.infusion_complete
    assert session.status == SessionStatus.OBSERVATION
    assert session.dose_ended_at == at(session, 35)
    event = last_event("session.infusion")
    assert event.detail["kind"] == "stop"
    assert event.detail["early_stop"] is True
    assert event.detail["delivered_mg"] == "18.80"


def test_a_full_infusion_delivers_the_planned_dose_within_rounding(session, nurse):
    chart(session, nurse, "stop", 40)

    total = administration_service.session_delivered(session)
    assert total.total_mg == Decimal("35.20")  # 0.88 mg/min (rounded rate) x 40 min


def test_the_dose_so_far_counts_up_to_now_while_running(session, nurse):
    chart(session, nurse, "pause", 10, reason="nausea")

    total = administration_service.delivered(
        session, session.infusion_events.all(), at=at(session, 60)
    )
    assert total.total_mg == Decimal("8.80")
    assert not total.infusion_complete


def test_a_rate_change_needs_a_reason(session, nurse):
    response = signed_in(nurse).post(
        f"/sessions/{session.pk}/infusion/",
        {"kind": "rate_change", "rate_mg_per_min": "0.5"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 422
    assert response["HX-Retarget"] == "#panel-administration"
    assert "Say why (rate change)." in response.content.decode()
    assert InfusionEvent.objects.filter(session=session).count() == 1
    assert last_event("session.infusion").outcome == Outcome.INVALID


def test_a_rate_outside_the_protocol_range_is_refused_with_its_basis(session, nurse):
    with pytest.raises(ValidationError) as refused:
        chart(session, nurse, "rate_change", 5, rate_mg_per_min=Decimal("2.5"), reason="faster")

    message = refused.value.message_dict["rate_mg_per_min"][0]
    assert "outside the protocol's 0.12–1.75 mg/min" in message
    assert "0.1-1.0 mg/kg over 40-60 min" in message


def test_stopping_early_needs_a_reason(session, nurse):
    with pytest.raises(ValidationError) as refused:
        chart(session, nurse, "stop", 12)

    assert "stops early" in refused.value.message_dict["reason"][0]
    session.refresh_from_db()
    assert session.status == SessionStatus.DOSING


def test_nothing_can_follow_a_stop(session, nurse):
    chart(session, nurse, "stop", 40)

    with pytest.raises(ValidationError) as refused:
        chart(session, nurse, "resume", 45)

    assert "nothing can follow a stop" in refused.value.message_dict["kind"][0]
    assert InfusionEvent.objects.filter(session=session).count() == 2


def test_events_out_of_order_are_refused(session, nurse):
    chart(session, nurse, "pause", 20, reason="BP")

    with pytest.raises(ValidationError) as refused:
        chart(session, nurse, "resume", 15)

    assert "before the last infusion event" in refused.value.message_dict["at"][0]


def test_a_resume_while_running_is_refused_by_the_record(session, nurse):
    with pytest.raises(ValidationError) as refused:
        chart(session, nurse, "resume", 5)

    assert refused.value.message_dict["kind"] == [
        "resume is not possible while the infusion is running"
    ]


def test_a_time_in_the_future_is_refused(session, nurse):
    with pytest.raises(ValidationError) as refused:
        chart(session, nurse, "pause", 400, reason="later")

    assert "in the future" in refused.value.message_dict["at"][0]


def test_the_page_shows_the_computed_total_after_a_change(session, nurse):
    response = signed_in(nurse).post(
        f"/sessions/{session.pk}/infusion/",
        {"kind": "rate_change", "rate_mg_per_min": "0.5", "reason": "anxious"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="session-body"' in body
    assert "Infusion rate change" in body
    event = InfusionEvent.objects.filter(session=session).last()
    assert (event.kind, event.rate_mg_per_min, event.reason, event.recorded_by) == (
        "rate_change",
        Decimal("0.500"),
        "anxious",
        nurse,
    )


def test_only_an_iv_session_has_an_infusion(patient_b, prescriber, nurse):
    session = started(open_session(patient_b, prescriber, nurse, "im"), nurse, prescriber)

    with pytest.raises(ValidationError):
        chart(session, nurse, "pause", 5, reason="x")


def test_outsiders_get_404(session, outsider):
    response = signed_in(outsider).post(
        f"/sessions/{session.pk}/infusion/", {"kind": "pause", "reason": "x"}
    )

    assert response.status_code == 404
    assert InfusionEvent.objects.filter(session=session).count() == 1
