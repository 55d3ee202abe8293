"""Dosing starts only when the pre-session checklist gate is clear (issue #5, item 1).

Each item blocks the start on its own; a prescriber may override an overridable item with a
reason. Starting sets the dose start, moves the session to dosing and the visit to in session,
and (IV) starts the infusion at the planned rate.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ketaclinic.audit.models import Outcome
from ketaclinic.charting import checklist, checklist_service, dose_service, vitals_service
from ketaclinic.charting.models import (
    ChecklistEntry,
    InfusionEvent,
    SessionStatus,
)
from ketaclinic.charting.tests.session_makers import (
    ago,
    last_event,
    open_session,
    request_by,
    walk_checklist,
)
from ketaclinic.conftest import signed_in
from ketaclinic.scheduling.models import Preparation, Status


@pytest.fixture
def session(patient_a, prescriber, nurse):
    return open_session(patient_a, prescriber, nurse)


def start(session, user, **options):
    return dose_service.session_start(
        request=request_by(user), session=session, at=ago(170), **options
    )


def refused_items(error: ValidationError) -> list[str]:
    return error.message_dict["checklist"]


def test_it_starts_when_every_item_passes(session, nurse, prescriber):
    walk_checklist(session, nurse, prescriber)

    response = signed_in(nurse).post(f"/sessions/{session.pk}/start/", {"at": ""})

    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == SessionStatus.DOSING
    assert session.dose_started_at is not None
    assert session.appointment.status == Status.IN_SESSION
    (event,) = InfusionEvent.objects.filter(session=session)
    assert (event.kind, event.rate_mg_per_min) == ("start", session.planned_rate_mg_per_min)
    assert event.at == session.dose_started_at
    assert last_event("session.start").detail["session"] == session.pk
    assert last_event("session.dosing") is not None


def test_items_passed_from_the_record_are_kept_as_they_stood(session, nurse, prescriber):
    walk_checklist(session, nurse, prescriber)

    start(session, nurse)

    kept = ChecklistEntry.objects.filter(session=session, note__startswith="from the record")
    assert {e.code for e in kept} >= {
        "screening_valid",
        "no_new_contraindication",
        "weight_current",
        "fasting_confirmed",
        "ride_home_confirmed",
        "pre_treatment_vitals",
    }
    assert all(e.recorded_by == nurse for e in kept)


@pytest.mark.parametrize(
    "item",
    [
        "identity_confirmed",
        "dose_double_checked",
        "pregnancy_status",
        "phq9_today",
        "consent_on_file",
        "pre_treatment_vitals",
    ],
)
def test_each_item_a_clinician_answers_blocks_the_start(session, nurse, prescriber, item):
    walk_checklist(session, nurse, prescriber, skip=(item,))

    with pytest.raises(ValidationError) as refused:
        start(session, nurse)

    assert len(refused_items(refused.value)) == 1
    label = checklist.DEFAULT_CHECKLIST.item(item).label
    assert refused_items(refused.value)[0].startswith(label)
    session.refresh_from_db()
    assert session.status == SessionStatus.CHECKLIST
    assert not InfusionEvent.objects.filter(session=session).exists()
    assert last_event("session.start").outcome == Outcome.INVALID


def test_it_refuses_when_fasting_not_confirmed(patient_a, prescriber, nurse):
    session = open_session(patient_a, prescriber, nurse, prepared=False)
    Preparation.objects.create(
        appointment=session.appointment, fasting_understood=False, ride_arranged=True
    )
    walk_checklist(session, nurse, prescriber)

    with pytest.raises(ValidationError) as refused:
        start(session, nurse)

    (problem,) = refused_items(refused.value)
    assert problem.startswith("Fasting confirmed per protocol")
    assert "Do not eat for 4–6 hours" in problem


def test_a_nurse_confirming_fasting_on_the_day_clears_it(patient_a, prescriber, nurse):
    session = open_session(patient_a, prescriber, nurse, prepared=False)
    walk_checklist(session, nurse, prescriber)
    for code in ("fasting_confirmed", "ride_home_confirmed"):
        checklist_service.checklist_record(
            request=request_by(nurse), session=session, code=code, outcome="passed"
        )

    start(session, nurse)

    session.refresh_from_db()
    assert session.status == SessionStatus.DOSING


def test_a_weight_older_than_the_policy_blocks_a_weight_based_dose(session, nurse, prescriber):
    session.patient.weights.update(
        measured_on=timezone.localdate(session.opened_at).replace(year=2020)
    )
    walk_checklist(session, nurse, prescriber)

    with pytest.raises(ValidationError) as refused:
        start(session, nurse)

    (problem,) = refused_items(refused.value)
    assert problem.startswith("Current weight for the weight-based dose")
    assert "at most 30 days old" in problem


def test_a_new_contraindication_since_screening_blocks_the_start(session, nurse, prescriber):
    from ketaclinic.plans.tests.helpers import add_medication

    add_medication(session.patient, prescriber, "Clonazepam", "benzodiazepine")
    walk_checklist(session, nurse, prescriber)

    with pytest.raises(ValidationError) as refused:
        start(session, nurse)

    (problem,) = refused_items(refused.value)
    assert problem.startswith("No new contraindication since screening")
    assert "since screening" in problem


def test_an_expired_screening_blocks_the_start(session, nurse, prescriber):
    screening = session.plan.screening
    screening.valid_until = ago(60 * 24 * 2).date()
    screening.save(update_fields=["valid_until"])
    walk_checklist(session, nurse, prescriber)

    with pytest.raises(ValidationError) as refused:
        start(session, nurse)

    (problem,) = refused_items(refused.value)
    assert problem.startswith("Signed screening still valid")
    assert "expired" in problem


def test_a_critical_pre_treatment_reading_blocks_the_start(session, nurse, prescriber):
    walk_checklist(session, nurse, prescriber, skip=("pre_treatment_vitals",))
    vitals_service.vitals_enter(
        request=request_by(nurse),
        session=session,
        values={"systolic_mmhg": 205, "diastolic_mmhg": 112},
        at=ago(175),
    )

    with pytest.raises(ValidationError) as refused:
        start(session, nurse)

    (problem,) = refused_items(refused.value)
    assert "critical alert in force: Blood pressure very high: 205/112 mmHg" in problem


def test_a_prescriber_override_lets_the_session_start(session, nurse, prescriber):
    session.patient.weights.update(
        measured_on=timezone.localdate(session.opened_at).replace(year=2020)
    )
    walk_checklist(session, nurse, prescriber)
    checklist_service.checklist_override(
        request=request_by(prescriber),
        session=session,
        code="weight_current",
        reason="Weighed on the clinic scale today: 70.2 kg, dose unchanged.",
    )

    start(session, nurse)

    session.refresh_from_db()
    assert session.status == SessionStatus.DOSING
    assert last_event("session.start").detail["overridden"] == {
        "weight_current": "overridden: Weighed on the clinic scale today: 70.2 kg, dose unchanged."
    }


def test_a_rate_outside_the_protocol_range_is_refused(session, nurse, prescriber):
    walk_checklist(session, nurse, prescriber)

    response = signed_in(nurse).post(
        f"/sessions/{session.pk}/start/", {"rate_mg_per_min": "5"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 422
    assert response["HX-Retarget"] == "#panel-checklist"
    assert "outside the protocol" in response.content.decode()
    session.refresh_from_db()
    assert session.status == SessionStatus.CHECKLIST


def test_it_cannot_start_twice(session, nurse, prescriber):
    walk_checklist(session, nurse, prescriber)
    start(session, nurse)

    with pytest.raises(ValidationError) as refused:
        start(session, nurse)

    assert "dosing" in refused.value.message_dict["status"][0]


def test_the_planned_rate_is_used_when_none_is_given(session, nurse, prescriber):
    walk_checklist(session, nurse, prescriber)

    start(session, nurse)

    event = InfusionEvent.objects.get(session=session)
    assert event.rate_mg_per_min == Decimal("0.88")


def test_an_outsider_gets_404_and_a_front_desk_403(session, outsider, front_desk, patient_b):
    assert signed_in(outsider).post(f"/sessions/{session.pk}/start/").status_code == 404
    assert signed_in(patient_b.user).post(f"/sessions/{session.pk}/start/").status_code == 404
    assert signed_in(front_desk).post(f"/sessions/{session.pk}/start/").status_code == 403
