"""A prescriber signs a screening. Never eligible over an exclusion; with reasoning when
findings need review; refused if the record changed since it was evaluated."""

from __future__ import annotations

from django.utils import timezone

from ketaclinic.audit.models import Outcome
from ketaclinic.conftest import signed_in
from ketaclinic.plans.tests.helpers import (
    add_medication,
    fields_of,
    last_event,
    post_json,
    screening_for,
    with_depression_history,
)
from ketaclinic.screening import validity
from ketaclinic.screening.models import ScreeningStatus


def sign_url(screening) -> str:
    return f"/api/v1/patients/{screening.patient_id}/screenings/{screening.pk}/sign"


def test_a_prescriber_signs_an_eligible_screening(prescriber, nurse, patient_a):
    with_depression_history(patient_a, prescriber)
    screening = screening_for(patient_a, nurse)

    response = post_json(signed_in(prescriber), sign_url(screening), {"decision": "eligible"})

    assert response.status_code == 200
    screening.refresh_from_db()
    assert screening.status == ScreeningStatus.SIGNED
    assert screening.signed_by == prescriber
    assert screening.clinician_decision == "eligible"
    assert screening.valid_until == validity.last_valid_day(timezone.localdate(screening.signed_at))
    assert screening.fingerprint["adequate_trials"] == 3
    event = last_event("screening.sign")
    assert event.actor == prescriber
    assert event.detail["clinician_decision"] == "eligible"
    assert event.detail["status"] == ["draft", "signed"]
    assert response.json()["usable_for_plan"] is True


def test_a_clinician_cannot_sign_eligible_over_an_ineligible_result(
    prescriber, nurse, patient_a, outsider
):
    with_depression_history(patient_a, prescriber)
    screening = screening_for(patient_a, nurse, findings=("pregnant",))

    for decision in ("eligible", "eligible_with_reasoning"):
        response = post_json(
            signed_in(prescriber),
            sign_url(screening),
            {"decision": decision, "reasoning": "I know better"},
        )

        assert response.status_code == 422
        assert fields_of(response) == {"decision"}
        assert "pregnant" in response.json()["message"]
    screening.refresh_from_db()
    assert screening.status == ScreeningStatus.DRAFT
    assert last_event("screening.sign").outcome == Outcome.INVALID
    response = post_json(signed_in(outsider), sign_url(screening), {"decision": "not_eligible"})
    assert response.status_code == 404


def test_signing_not_eligible_over_an_exclusion_is_fine(prescriber, nurse, patient_a):
    with_depression_history(patient_a, prescriber)
    screening = screening_for(patient_a, nurse, findings=("pregnant",))

    response = post_json(signed_in(prescriber), sign_url(screening), {"decision": "not_eligible"})

    assert response.status_code == 200
    assert response.json()["usable_for_plan"] is False


def test_needs_review_requires_documented_reasoning(prescriber, nurse, patient_a):
    with_depression_history(patient_a, prescriber)
    add_medication(patient_a, prescriber, "Clonazepam", "benzodiazepine")
    screening = screening_for(patient_a, nurse)
    assert screening.engine_decision == "needs_review"

    refused = post_json(signed_in(prescriber), sign_url(screening), {"decision": "eligible"})
    assert refused.status_code == 422
    assert fields_of(refused) == {"reasoning"}
    assert "cns_depressants" in refused.json()["message"]

    signed = post_json(
        signed_in(prescriber),
        sign_url(screening),
        {"decision": "eligible", "reasoning": "No clonazepam within 24 h of a session."},
    )
    assert signed.status_code == 200
    screening.refresh_from_db()
    assert screening.clinician_decision == "eligible_with_reasoning"
    assert screening.reasoning == "No clonazepam within 24 h of a session."


def test_a_nurse_cannot_sign(nurse, patient_a):
    screening = screening_for(patient_a, nurse)

    response = post_json(signed_in(nurse), sign_url(screening), {"decision": "eligible"})

    assert response.status_code == 403
    screening.refresh_from_db()
    assert screening.status == ScreeningStatus.DRAFT


def test_the_record_changing_since_evaluation_refuses_the_signature(prescriber, nurse, patient_a):
    with_depression_history(patient_a, prescriber)
    screening = screening_for(patient_a, nurse)
    add_medication(patient_a, prescriber, "Phenelzine", "maoi")

    response = post_json(signed_in(prescriber), sign_url(screening), {"decision": "eligible"})

    assert response.status_code == 422
    assert fields_of(response) == {"screening"}
    assert "new medication in stimulants_or_maoi since screening" in response.json()["message"]


def test_a_signed_screening_is_not_signed_or_changed_again(prescriber, nurse, patient_a):
    with_depression_history(patient_a, prescriber)
    screening = screening_for(patient_a, nurse)
    client = signed_in(prescriber)
    post_json(client, sign_url(screening), {"decision": "eligible"})

    again = post_json(client, sign_url(screening), {"decision": "not_eligible"})
    changed = post_json(
        client,
        f"/api/v1/patients/{patient_a.pk}/screenings/{screening.pk}",
        {"route": "im", "indication": "trd"},
    )

    assert again.status_code == 422
    assert fields_of(again) == {"status"}
    assert changed.status_code == 422
    screening.refresh_from_db()
    assert (screening.clinician_decision, screening.route) == ("eligible", "iv")


def test_another_patients_screening_cannot_be_signed(prescriber, nurse, patient_a, patient_b):
    screening = screening_for(patient_a, nurse)

    response = post_json(
        signed_in(prescriber),
        f"/api/v1/patients/{patient_b.pk}/screenings/{screening.pk}/sign",
        {"decision": "eligible"},
    )

    assert response.status_code == 404


def test_a_screening_entered_in_error_stays_on_record_marked(prescriber, nurse, patient_a):
    screening = screening_for(patient_a, nurse)

    response = post_json(
        signed_in(prescriber),
        f"/api/v1/patients/{patient_a.pk}/screenings/{screening.pk}/entered-in-error",
        {"reason": "Wrong patient"},
    )

    assert response.status_code == 200
    screening.refresh_from_db()
    assert screening.status == ScreeningStatus.ENTERED_IN_ERROR
    assert last_event("screening.entered_in_error").detail["reason"] == "Wrong patient"
