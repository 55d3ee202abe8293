"""The Django admin obeys the permission matrix and writes every view and change down."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import models
from django.utils import timezone

from ketaclinic.accounts.admin import ClinicModelAdmin
from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import can
from ketaclinic.accounts.roles import Role
from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.conftest import make_user, signed_in
from ketaclinic.outcomes.tests.factories import make_response
from ketaclinic.patients.models import Patient


def superuser(username: str, role: Role) -> User:
    return make_user(username, role, is_staff=True, is_superuser=True)


@pytest.fixture
def phq9(patient_a, nurse):
    return make_response(patient_a, "phq9", total=14, at=timezone.now(), by=nurse)


def newest(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).order_by("-seq").first()


def test_a_clinic_admin_superuser_cannot_read_phq9_answers_in_the_admin(db, phq9, patient_a):
    owner = signed_in(superuser("owner", Role.CLINIC_ADMIN))

    listing = owner.get("/admin/outcomes/response/")
    page = owner.get(f"/admin/outcomes/response/{phq9.pk}/change/")

    assert listing.status_code == 403
    assert page.status_code == 403
    refused = newest("admin.view")
    assert refused.outcome == Outcome.REFUSED
    assert refused.patient_id == patient_a.pk
    assert refused.detail["model"] == "outcomes.response"
    assert newest("admin.list").outcome == Outcome.REFUSED


def test_the_admin_index_does_not_offer_what_the_role_may_not_read(db):
    owner = signed_in(superuser("owner", Role.CLINIC_ADMIN))

    index = owner.get("/admin/").content.decode()

    assert "/admin/patients/patient/" in index  # demographics: the clinic admin's work
    assert "/admin/outcomes/response/" not in index
    assert "/admin/patients/weightmeasurement/" not in index
    assert "/admin/plans/treatmentplan/" not in index
    assert "/admin/audit/auditevent/" in index


def test_a_prescriber_reading_a_response_in_the_admin_is_audited_with_the_patient(
    db, phq9, patient_a
):
    doctor = superuser("doctor", Role.PRESCRIBER)
    client = signed_in(doctor)

    listing = client.get("/admin/outcomes/response/")
    page = client.get(f"/admin/outcomes/response/{phq9.pk}/change/")
    history = client.get(f"/admin/outcomes/response/{phq9.pk}/history/")

    assert (listing.status_code, page.status_code, history.status_code) == (200, 200, 200)
    listed = newest("admin.list")
    assert listed.actor == doctor
    assert listed.outcome == Outcome.SUCCESS
    assert listed.detail["patients"] == [patient_a.pk]
    assert listed.patient_id == patient_a.pk
    viewed = newest("admin.view")
    assert (viewed.patient_id, viewed.object_type, viewed.object_id) == (
        patient_a.pk,
        "Response",
        str(phq9.pk),
    )
    assert newest("admin.history").patient_id == patient_a.pk


def test_a_patient_account_with_staff_flags_never_opens_the_admin(db, patient_a):
    patient_a.user.is_staff = patient_a.user.is_superuser = True
    patient_a.user.save()
    client = signed_in(patient_a.user)

    assert client.get(f"/admin/patients/patient/{patient_a.pk}/change/").status_code == 403
    assert client.get("/admin/accounts/user/").status_code == 403


def test_a_front_desk_superuser_reads_demographics_but_not_weights(db, patient_a, weight_of):
    weight = weight_of(patient_a, "70.0")
    desk = signed_in(superuser("desk", Role.FRONT_DESK))

    assert desk.get(f"/admin/patients/patient/{patient_a.pk}/change/").status_code == 200
    assert newest("admin.view").patient_id == patient_a.pk
    assert desk.get(f"/admin/patients/weightmeasurement/{weight.pk}/change/").status_code == 403


def test_a_role_change_in_the_admin_is_audited_with_old_and_new_role(db, nurse):
    owner_user = superuser("owner", Role.CLINIC_ADMIN)
    owner = signed_in(owner_user)
    form = {
        "username": nurse.username,
        "first_name": nurse.first_name,
        "last_name": nurse.last_name,
        "email": "",
        "is_active": "on",
        "role": Role.PRESCRIBER,
        "credentials": "MD",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "09:00:00",
    }

    response = owner.post(f"/admin/accounts/user/{nurse.pk}/change/", form)

    assert response.status_code == 302, response.context["adminform"].form.errors
    nurse.refresh_from_db()
    assert nurse.role == Role.PRESCRIBER
    event = newest("user.role_change")
    assert event.actor == owner_user
    assert event.detail == {"username": "nurse", "old_role": "nurse", "new_role": "prescriber"}
    change = newest("admin.change")
    assert change.detail["changes"]["role"] == ["nurse", "prescriber"]
    assert "password" not in change.detail["changes"]


def test_creating_an_account_in_the_admin_audits_its_first_role(db):
    owner = signed_in(superuser("owner", Role.CLINIC_ADMIN))

    response = owner.post(
        "/admin/accounts/user/add/",
        {
            "username": "newdoc",
            "password1": "a long enough pass phrase",
            "password2": "a long enough pass phrase",
            "usable_password": "true",
            "role": Role.PRESCRIBER,
        },
    )

    assert response.status_code == 302
    assert User.objects.get(username="newdoc").role == Role.PRESCRIBER
    event = newest("user.role_change")
    assert (event.detail["old_role"], event.detail["new_role"]) == ("", "prescriber")


def test_every_admin_registration_uses_the_clinic_rules():
    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, ClinicModelAdmin), model


def test_every_admin_of_a_model_belonging_to_a_patient_names_the_patient():
    def belongs_to_patient(model) -> bool:
        return any(
            isinstance(field, models.ForeignKey) and field.related_model is Patient
            for field in model._meta.get_fields()
        )

    for model, model_admin in admin.site._registry.items():
        if belongs_to_patient(model) or model is Patient:
            assert model_admin.patient_path, model
            assert model_admin.view_permission, model


@pytest.mark.parametrize("role", [Role.PRESCRIBER, Role.CLINIC_ADMIN, Role.FRONT_DESK])
def test_every_admin_list_opens_or_refuses_as_the_matrix_says(db, role, phq9):
    user = superuser("super", role)
    client = signed_in(user)
    for model, model_admin in admin.site._registry.items():
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        allowed = model_admin.view_permission is None or can(user, model_admin.view_permission)

        response = client.get(url)

        assert response.status_code == (200 if allowed else 403), url
