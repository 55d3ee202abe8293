"""Esketamine devices (28 mg each, 5 min rest as a warning) and IM injections.

A device used less than 5 min after the previous one is charted and counted, with a warning
shown to the nurse (label: rest 5 min between devices); the protocol's largest dose is a hard
limit. IM injections add up against the protocol's allowed mg/kg at the plan's weight.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from ketaclinic.charting import administration_service, dose_service
from ketaclinic.charting.models import BolusDose, NasalDevice, SessionStatus
from ketaclinic.charting.session_service import local_time
from ketaclinic.charting.tests.session_makers import (
    ago,
    last_event,
    open_session,
    rems_ready,
    request_by,
    started,
)
from ketaclinic.conftest import signed_in


@pytest.fixture
def esketamine(patient_a, prescriber, nurse):
    session = open_session(patient_a, prescriber, nurse, "esketamine")
    rems_ready(patient_a, prescriber)
    return started(session, nurse, prescriber, minutes_ago=170)


@pytest.fixture
def im(patient_b, prescriber, nurse):
    return started(open_session(patient_b, prescriber, nurse, "im"), nurse, prescriber)


def at(session, minute: float) -> dt.datetime:
    return session.dose_started_at + dt.timedelta(minutes=minute)


def device(session, nurse, minute):
    return administration_service.device_record(
        request=request_by(nurse), session=session, at=at(session, minute)
    )


def test_devices_add_up_to_the_dose_given(esketamine, nurse):
    device(esketamine, nurse, 0)
    device(esketamine, nurse, 5)

    total = administration_service.session_delivered(esketamine)
    assert total.total_mg == Decimal("56.00")
    assert total.warnings == ()


def test_a_device_used_inside_the_rest_interval_is_a_warning_not_a_refusal(esketamine, nurse):
    device(esketamine, nurse, 0)

    result = device(esketamine, nurse, 3)

    (warning,) = result.warnings
    first, second = (local_time(at(esketamine, m)) for m in (0, 3))
    assert warning == (
        f"device 2 at {second} was used 3 min after device 1 at {first}; "
        "5 min rest between devices (Spravato label)"
    )
    assert NasalDevice.objects.filter(session=esketamine).count() == 2
    assert administration_service.session_delivered(esketamine).total_mg == Decimal("56.00")
    assert last_event("session.device").detail["warnings"] == list(result.warnings)


def test_the_page_shows_the_rest_warning(esketamine, nurse):
    administration_service.device_record(request=request_by(nurse), session=esketamine, at=ago(2))

    response = signed_in(nurse).post(
        f"/sessions/{esketamine.pk}/device/", {"at": ""}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert "min after device 1 at" in response.content.decode()


def test_more_devices_than_planned_are_warned_and_the_protocol_maximum_refused(esketamine, nurse):
    device(esketamine, nurse, 0)
    device(esketamine, nurse, 5)

    third = device(esketamine, nurse, 10)
    assert third.warnings == ("3 devices given; the plan is 56.0 mg (2 devices).",)
    with pytest.raises(ValidationError) as refused:
        device(esketamine, nurse, 15)

    assert "allows at most 84 mg" in refused.value.message_dict["at"][0]
    assert NasalDevice.objects.filter(session=esketamine).count() == 3


def test_dosing_done_starts_observation(esketamine, nurse):
    device(esketamine, nurse, 0)
    device(esketamine, nurse, 5)

    dose_service.dose_end(request=request_by(nurse), session=esketamine, at=at(esketamine, 6))

    esketamine.refresh_from_db()
    assert esketamine.status == SessionStatus.OBSERVATION
    assert esketamine.dose_ended_at == at(esketamine, 6)


def test_dosing_cannot_end_before_anything_was_given(esketamine, nurse):
    with pytest.raises(ValidationError) as refused:
        dose_service.dose_end(request=request_by(nurse), session=esketamine)

    assert refused.value.message_dict["status"] == ["Nothing has been given yet."]


def test_injections_add_up(im, nurse):
    administration_service.bolus_record(
        request=request_by(nurse), session=im, dose_mg=Decimal("35"), at=at(im, 0)
    )

    assert administration_service.session_delivered(im).total_mg == Decimal("35.00")
    assert BolusDose.objects.get(session=im).recorded_by == nurse


def test_injections_above_the_protocol_maximum_are_refused(im, nurse):
    administration_service.bolus_record(
        request=request_by(nurse), session=im, dose_mg=Decimal("35"), at=at(im, 0)
    )

    with pytest.raises(ValidationError) as refused:
        administration_service.bolus_record(
            request=request_by(nurse), session=im, dose_mg=Decimal("40"), at=at(im, 5)
        )

    message = refused.value.message_dict["dose_mg"][0]
    assert (
        "75 mg in this session would exceed the protocol's 1.0 mg/kg at 70.0 kg = 70 mg" in message
    )
    assert BolusDose.objects.filter(session=im).count() == 1


def test_an_injection_form_with_a_bad_number_answers_422(im, nurse):
    response = signed_in(nurse).post(
        f"/sessions/{im.pk}/injection/", {"dose_mg": "lots"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 422
    assert "Enter a number." in response.content.decode()
    assert not BolusDose.objects.exists()


def test_outsiders_get_404(esketamine, im, outsider):
    assert signed_in(outsider).post(f"/sessions/{esketamine.pk}/device/").status_code == 404
    assert (
        signed_in(outsider).post(f"/sessions/{im.pk}/injection/", {"dose_mg": "5"}).status_code
        == 404
    )
    assert not NasalDevice.objects.exists()
    assert not BolusDose.objects.exists()
