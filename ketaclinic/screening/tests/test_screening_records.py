"""A patient's screening: answers evaluated with the facts the record holds, stored with who
answered and when, and the engine's result as it was."""

from __future__ import annotations

import datetime as dt

from ketaclinic.conftest import signed_in
from ketaclinic.patients.models import Diagnosis, EntryStatus
from ketaclinic.plans.tests.helpers import (
    add_medication,
    fields_of,
    last_event,
    post_json,
    with_depression_history,
)
from ketaclinic.screening.models import Screening, ScreeningStatus


def url(patient, *rest) -> str:
    return "/".join([f"/api/v1/patients/{patient.pk}/screenings", *map(str, rest)]).rstrip("/")


ANSWERS = {"route": "iv", "indication": "trd", "findings": [], "oral_antidepressant": True}


def test_a_nurse_records_a_screening_evaluated_with_the_record(nurse, prescriber, patient_a):
    with_depression_history(patient_a, prescriber, trials=1)
    add_medication(patient_a, prescriber, "Lorazepam", "benzodiazepine")

    response = post_json(
        signed_in(nurse),
        url(patient_a),
        ANSWERS | {"findings": ["cystitis_history"], "systolic_mmhg": 128, "diastolic_mmhg": 80},
    )

    assert response.status_code == 201
    screening = Screening.objects.get(pk=response.json()["id"])
    screening.refresh_from_db()
    assert screening.status == ScreeningStatus.DRAFT
    assert screening.answered_by == nurse
    assert screening.age_years == patient_a.age_today
    assert screening.adequate_trials == 1
    assert screening.reported_findings == ["cystitis_history"]
    assert screening.derived_codes == ["cns_depressants"]
    assert screening.derived_findings[0]["because"] == ["medication Lorazepam (Benzodiazepine)"]
    assert screening.engine_decision == "needs_review"
    codes = [f["code"] for f in screening.engine_findings]
    assert set(codes) == {"cns_depressants", "cystitis_history", "trd_criteria_not_met"}
    assert all(f["sources"] for f in screening.engine_findings)
    assert (screening.systolic_mmhg, screening.diastolic_mmhg) == (128, 80)
    assert screening.bp_measured_at is not None
    event = last_event("screening.create")
    assert event.actor == nurse
    assert event.patient_id == patient_a.pk
    assert event.detail["derived_findings"] == ["cns_depressants"]


def test_a_recorded_schizophrenia_diagnosis_excludes_from_the_record(nurse, prescriber, patient_a):
    Diagnosis.objects.create(patient=patient_a, icd10_code="F20.9", recorded_by=prescriber)
    with_depression_history(patient_a, prescriber)

    response = post_json(signed_in(nurse), url(patient_a), ANSWERS)

    assert response.status_code == 201
    body = response.json()
    assert body["engine_decision"] == "ineligible"
    assert body["derived_findings"][0]["code"] == "schizophrenia"
    assert "F20.9" in body["derived_findings"][0]["because"][0]
    assert body["derived_findings"][0]["basis"]


def test_resolved_or_struck_out_entries_are_not_read(nurse, prescriber, patient_a):
    with_depression_history(patient_a, prescriber)
    Diagnosis.objects.create(
        patient=patient_a, icd10_code="F20.9", recorded_by=prescriber, status=EntryStatus.RESOLVED
    )
    medication = add_medication(patient_a, prescriber, "Zolpidem", "sedative_hypnotic")
    medication.status = EntryStatus.ENTERED_IN_ERROR
    medication.save()

    response = post_json(signed_in(nurse), url(patient_a), ANSWERS)

    assert response.json()["engine_decision"] == "eligible"
    assert response.json()["derived_findings"] == []


def test_an_implausible_reading_is_refused_and_nothing_is_stored(nurse, patient_a):
    response = post_json(
        signed_in(nurse), url(patient_a), ANSWERS | {"systolic_mmhg": 80, "diastolic_mmhg": 95}
    )

    assert response.status_code == 422
    assert fields_of(response) == {"diastolic_mmhg"}
    assert not Screening.objects.exists()
    assert last_event("screening.create").outcome == "invalid"


def test_unknown_codes_are_named_as_findings(nurse, patient_a):
    response = post_json(signed_in(nurse), url(patient_a), ANSWERS | {"findings": ["gout"]})

    assert response.status_code == 422
    assert fields_of(response) == {"findings"}


def test_a_draft_can_be_answered_again_and_keeps_old_and_new_in_the_trail(nurse, patient_a):
    with_depression_history(patient_a, nurse)
    created = post_json(signed_in(nurse), url(patient_a), ANSWERS).json()

    response = post_json(
        signed_in(nurse), url(patient_a, created["id"]), ANSWERS | {"findings": ["pregnant"]}
    )

    assert response.status_code == 200
    screening = Screening.objects.get(pk=created["id"])
    assert screening.engine_decision == "ineligible"
    changes = last_event("screening.change").detail["changes"]
    assert changes["reported_findings"] == [[], ["pregnant"]]
    assert changes["engine_decision"] == ["eligible", "ineligible"]


def test_a_measurement_time_in_the_future_is_refused(nurse, patient_a):
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)).isoformat()

    response = post_json(
        signed_in(nurse),
        url(patient_a),
        ANSWERS | {"systolic_mmhg": 120, "diastolic_mmhg": 80, "bp_measured_at": later},
    )

    assert response.status_code == 422
    assert fields_of(response) == {"bp_measured_at"}


def test_another_patients_screenings_are_not_found(nurse, patient_a, patient_b, outsider):
    screening = post_json(signed_in(nurse), url(patient_a), ANSWERS).json()

    assert signed_in(patient_b.user).get(url(patient_a)).status_code == 404
    assert signed_in(outsider).get(url(patient_a, screening["id"])).status_code == 404
    assert signed_in(nurse).get(url(patient_b, screening["id"])).status_code == 404
    assert post_json(signed_in(outsider), url(patient_a), ANSWERS).status_code == 404


def test_front_desk_and_therapists_do_not_record_screenings(front_desk, therapist, patient_a):
    assert signed_in(front_desk).get(url(patient_a)).status_code == 403
    assert post_json(signed_in(therapist), url(patient_a), ANSWERS).status_code == 403
    assert signed_in(therapist).get(url(patient_a)).status_code == 200
