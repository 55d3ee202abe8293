"""The audit trail page: filtered by a patient's MRN (or internal id), at its old address."""

from __future__ import annotations

from django.urls import reverse

from ketaclinic.audit.models import AuditEvent
from ketaclinic.conftest import signed_in


def patients_of(response) -> set[int | None]:
    return {event.patient_id for event in response.context["page"]}


def test_the_page_keeps_its_address(clinic_admin):
    assert reverse("audit:list") == "/audit/"
    assert signed_in(clinic_admin).get("/audit/").status_code == 200


def test_the_patient_filter_takes_the_mrn(clinic_admin, nurse, patient_a, patient_b):
    signed_in(nurse).get(f"/patients/{patient_a.pk}/")
    signed_in(nurse).get(f"/patients/{patient_b.pk}/")

    response = signed_in(clinic_admin).get("/audit/", {"patient": patient_a.mrn})

    assert response.status_code == 200
    assert patients_of(response) == {patient_a.pk}


def test_the_mrn_may_be_typed_in_lower_case_with_spaces(clinic_admin, nurse, patient_a):
    signed_in(nurse).get(f"/patients/{patient_a.pk}/")

    response = signed_in(clinic_admin).get("/audit/", {"patient": f" {patient_a.mrn.lower()} "})

    assert patients_of(response) == {patient_a.pk}


def test_the_internal_id_still_works(clinic_admin, nurse, patient_a, patient_b):
    signed_in(nurse).get(f"/patients/{patient_b.pk}/")

    response = signed_in(clinic_admin).get("/audit/", {"patient": str(patient_b.pk)})

    assert patients_of(response) == {patient_b.pk}


def test_an_mrn_nobody_has_shows_no_events(clinic_admin, nurse, patient_a):
    signed_in(nurse).get(f"/patients/{patient_a.pk}/")

    response = signed_in(clinic_admin).get("/audit/", {"patient": "KC0000000"})

    assert response.status_code == 200
    assert list(response.context["page"]) == []
    assert "No events match." in response.content.decode()


def test_an_id_too_large_for_any_row_shows_no_events(clinic_admin):
    response = signed_in(clinic_admin).get("/audit/", {"patient": "9" * 30})

    assert response.status_code == 200
    assert list(response.context["page"]) == []


def test_looking_is_audited_with_the_filters(clinic_admin, patient_a):
    signed_in(clinic_admin).get("/audit/", {"patient": patient_a.mrn})

    event = AuditEvent.objects.filter(action="audit.view").order_by("-seq").first()
    assert event.actor == clinic_admin
    assert event.detail["filters"]["patient"] == patient_a.mrn


def test_staff_without_the_permission_are_refused(nurse):
    assert signed_in(nurse).get("/audit/").status_code == 403
