"""The patient's intake questionnaire on the portal and the clinician's review of it."""

from __future__ import annotations

import pytest

from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.conftest import signed_in
from ketaclinic.intake import questionnaire
from ketaclinic.intake.models import IntakeItem, IntakeSubmission, ItemStatus
from ketaclinic.patients.models import AntidepressantTrial, Diagnosis, Medication, OtherTreatment
from ketaclinic.screening import rules

URL = "/portal/intake/"


def form(**extra) -> dict:
    body = {
        "history": ["psychosis_history", "cns_depressants"],
        "pregnancy": "not_pregnant",
        "med-0-name": "sertraline",
        "med-0-dose": "100 mg",
        "med-0-frequency": "daily",
        "trial-0-drug": "escitalopram",
        "trial-0-dose": "20 mg",
        "trial-0-weeks": "8",
        "trial-0-outcome": "no_response",
        "treatment-0-kind": "tms",
        "treatment-0-description": "36 sessions",
        "treatment-0-outcome": "partial_response",
        "substance_details": "Two glasses of wine a week",
        "emergency_name": "Sam Alvarez",
        "emergency_phone": "555-0101",
        "driver_name": "Lee Alvarez",
        "driver_phone": "555-0102",
    }
    body.update(extra)
    return body


def submit(patient_a, **extra):
    return signed_in(patient_a.user).post(URL, form(**extra))


def test_every_history_question_is_a_reportable_screening_finding():
    reportable = set(rules.reportable_codes())
    codes = [q.code for q in questionnaire.questions()]
    assert set(codes) <= reportable
    assert len(codes) == len(set(codes))


@pytest.mark.django_db
def test_the_patient_sees_the_questionnaire_on_the_portal(patient_a):
    response = signed_in(patient_a.user).get(URL)

    assert response.status_code == 200
    assert "Have you ever had psychosis" in response.content.decode()
    assert AuditEvent.objects.filter(
        action="patient.view", patient_id=patient_a.pk, detail__section="intake form"
    ).exists()


@pytest.mark.django_db
def test_sending_it_stores_the_answers_and_one_pending_item_per_thing_reported(patient_a):
    response = submit(patient_a)

    assert response.status_code == 302
    submission = IntakeSubmission.objects.get(patient=patient_a)
    assert submission.answers["history"] == ["psychosis_history", "cns_depressants"]
    kinds = list(IntakeItem.objects.filter(patient=patient_a).values_list("kind", flat=True))
    assert kinds == [
        "finding",
        "finding",
        "pregnancy",
        "medication",
        "trial",
        "treatment",
        "substance",
        "contact",
        "driver",
    ]
    assert set(IntakeItem.objects.values_list("status", flat=True)) == {ItemStatus.PENDING}
    # Nothing patient-reported is on the record yet.
    assert not Diagnosis.objects.filter(patient=patient_a).exists()
    assert not Medication.objects.filter(patient=patient_a).exists()
    assert AuditEvent.objects.filter(action="intake.submit", patient_id=patient_a.pk).exists()


@pytest.mark.django_db
def test_missing_contacts_and_an_unknown_code_are_refused_naming_the_field(patient_a):
    response = submit(patient_a, driver_name="", history=["not_a_question"])

    assert response.status_code == 422
    body = response.content.decode()
    assert "driver.name" in body
    assert "history" in body
    assert not IntakeSubmission.objects.exists()
    assert AuditEvent.objects.filter(action="intake.submit", outcome=Outcome.INVALID).exists()


@pytest.mark.django_db
def test_sending_again_supersedes_the_pending_items(patient_a):
    submit(patient_a)
    submit(patient_a, history=[])

    assert IntakeSubmission.objects.filter(patient=patient_a).count() == 2
    assert not IntakeItem.objects.filter(
        patient=patient_a, status=ItemStatus.PENDING, finding="psychosis_history"
    ).exists()
    assert IntakeItem.objects.filter(status=ItemStatus.SUPERSEDED).count() == 9


@pytest.mark.django_db
def test_staff_and_outsiders_do_not_reach_the_patients_form(nurse, outsider, patient_a):
    assert signed_in(nurse).get(URL).status_code == 404
    assert signed_in(outsider).get(URL).status_code == 404


def item(patient, kind):
    return IntakeItem.objects.get(patient=patient, kind=kind)


def confirm_url(patient, row):
    return f"/patients/{patient.pk}/intake/items/{row.pk}/confirm/"


@pytest.mark.django_db
def test_the_intake_tab_lists_what_awaits_confirmation(patient_a, nurse):
    submit(patient_a)

    response = signed_in(nurse).get(f"/patients/{patient_a.pk}/tab/intake/")

    assert response.status_code == 200
    assert "awaiting confirmation" in response.content.decode()


@pytest.mark.django_db
def test_a_prescriber_confirms_a_finding_into_a_diagnosis_attributed_to_them(patient_a, prescriber):
    submit(patient_a)
    finding = IntakeItem.objects.get(patient=patient_a, finding="psychosis_history")

    response = signed_in(prescriber).post(confirm_url(patient_a, finding), {"icd10_code": "F29"})

    assert response.status_code == 302
    finding.refresh_from_db()
    assert finding.status == ItemStatus.CONFIRMED
    assert finding.reviewed_by == prescriber
    diagnosis = Diagnosis.objects.get(patient=patient_a)
    assert (finding.record_type, finding.record_id) == ("Diagnosis", diagnosis.pk)
    assert diagnosis.recorded_by == prescriber
    assert diagnosis.notes == "patient-reported intake, confirmed by Prescriber"
    event = AuditEvent.objects.get(action="intake.confirm")
    assert event.detail["origin"] == "patient-reported intake, confirmed by Prescriber"
    assert AuditEvent.objects.filter(action="diagnosis.create", actor=prescriber).exists()


@pytest.mark.django_db
def test_a_nurse_confirms_a_medication_trial_treatment_and_the_emergency_contact(patient_a, nurse):
    submit(patient_a)
    client = signed_in(nurse)

    ok = [
        client.post(
            confirm_url(patient_a, item(patient_a, "medication")),
            {"drug_class": "ssri", "dose": "100 mg"},
        ),
        client.post(
            confirm_url(patient_a, item(patient_a, "trial")),
            {
                "drug_class": "ssri",
                "dose_mg_per_day": "20",
                "duration_weeks": "8",
                "outcome": "no_response",
                "adequate": "on",
            },
        ),
        client.post(confirm_url(patient_a, item(patient_a, "treatment")), {}),
        client.post(confirm_url(patient_a, item(patient_a, "contact")), {}),
    ]

    assert [r.status_code for r in ok] == [302, 302, 302, 302]
    assert Medication.objects.get(patient=patient_a).recorded_by == nurse
    trial = AntidepressantTrial.objects.get(patient=patient_a)
    assert (trial.drug, trial.adequate, trial.notes) == (
        "escitalopram",
        True,
        "patient-reported intake, confirmed by Nurse",
    )
    assert OtherTreatment.objects.get(patient=patient_a).kind == "tms"
    patient_a.refresh_from_db()
    assert (patient_a.emergency_contact_name, patient_a.emergency_contact_phone) == (
        "Sam Alvarez",
        "555-0101",
    )


@pytest.mark.django_db
def test_a_confirmation_missing_what_the_record_needs_is_422_and_writes_nothing(patient_a, nurse):
    submit(patient_a)
    trial = item(patient_a, "trial")

    response = signed_in(nurse).post(
        confirm_url(patient_a, trial), {"dose_mg_per_day": "lots", "duration_weeks": "8"}
    )

    assert response.status_code == 422
    trial.refresh_from_db()
    assert trial.status == ItemStatus.PENDING
    assert not AntidepressantTrial.objects.exists()
    assert AuditEvent.objects.filter(action="intake.confirm", outcome=Outcome.INVALID).exists()


@pytest.mark.django_db
def test_confirming_twice_is_a_conflict(patient_a, nurse):
    submit(patient_a)
    driver = item(patient_a, "driver")
    client = signed_in(nurse)
    client.post(confirm_url(patient_a, driver), {})

    response = client.post(confirm_url(patient_a, driver), {})

    assert response.status_code == 409
    assert "already confirmed" in response.content.decode()


@pytest.mark.django_db
def test_setting_aside_needs_a_reason_and_keeps_it(patient_a, nurse):
    submit(patient_a)
    substance = item(patient_a, "substance")
    url = f"/patients/{patient_a.pk}/intake/items/{substance.pk}/set-aside/"
    client = signed_in(nurse)

    assert client.post(url, {"reason": " "}).status_code == 422
    response = client.post(url, {"reason": "discussed, not relevant"})

    assert response.status_code == 302
    substance.refresh_from_db()
    assert (substance.status, substance.review_note, substance.reviewed_by) == (
        ItemStatus.SET_ASIDE,
        "discussed, not relevant",
        nurse,
    )
    assert AuditEvent.objects.filter(action="intake.set_aside", patient_id=patient_a.pk).exists()


@pytest.mark.django_db
def test_a_therapist_may_not_confirm_a_medication(patient_a, therapist):
    submit(patient_a)

    response = signed_in(therapist).post(
        confirm_url(patient_a, item(patient_a, "medication")), {"drug_class": "ssri"}
    )

    assert response.status_code == 403
    assert not Medication.objects.exists()


@pytest.mark.django_db
def test_front_desk_gets_403_and_other_patients_and_outsiders_404(
    patient_a, patient_b, front_desk, outsider
):
    submit(patient_a)
    medication = item(patient_a, "medication")
    url = confirm_url(patient_a, medication)

    assert signed_in(front_desk).post(url, {}).status_code == 403
    assert signed_in(patient_b.user).post(url, {}).status_code == 404
    assert signed_in(outsider).post(url, {}).status_code == 404
    assert signed_in(patient_b.user).get(f"/patients/{patient_a.pk}/tab/intake/").status_code in (
        302,
        404,
    )
    medication.refresh_from_db()
    assert medication.status == ItemStatus.PENDING


@pytest.mark.django_db
def test_an_item_of_another_patient_is_not_found(patient_a, patient_b, nurse):
    submit(patient_a)
    medication = item(patient_a, "medication")

    response = signed_in(nurse).post(
        f"/patients/{patient_b.pk}/intake/items/{medication.pk}/confirm/", {"drug_class": "ssri"}
    )

    assert response.status_code == 404


@pytest.mark.django_db
def test_the_screening_form_shows_patient_reported_findings_awaiting_confirmation(patient_a, nurse):
    submit(patient_a)

    response = signed_in(nurse).get(f"/patients/{patient_a.pk}/screenings/new/")

    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-reported="psychosis_history"' in body
    assert "patient-reported, awaiting confirmation" in body
    # Awaiting confirmation: not ticked for the clinician.
    assert (
        'id="finding-psychosis_history" name="reported_findings" value="psychosis_history">' in body
    )


@pytest.mark.django_db
def test_a_finding_a_clinician_confirmed_is_ticked_on_the_screening_form(patient_a, nurse):
    submit(patient_a)
    finding = IntakeItem.objects.get(patient=patient_a, finding="cns_depressants")
    signed_in(nurse).post(confirm_url(patient_a, finding), {})

    body = signed_in(nurse).get(f"/patients/{patient_a.pk}/screenings/new/").content.decode()

    assert "patient-reported intake, confirmed by Nurse" in body
    assert 'value="cns_depressants" checked' in body
