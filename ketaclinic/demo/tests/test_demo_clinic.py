"""`manage.py demo` builds a whole clinic once; running it again changes nothing."""

from __future__ import annotations

from django.apps import apps
from django.core.management import call_command

from ketaclinic.accounts.models import User
from ketaclinic.accounts.roles import Role
from ketaclinic.audit import trail
from ketaclinic.demo import clinic
from ketaclinic.patients.models import Patient


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label
        in {"accounts", "patients", "scheduling", "audit", "charting", "outcomes"}
    }


def test_the_demo_has_every_role_rooms_and_forty_varied_patients(db):
    created = clinic.load()
    assert {k: created[k] for k in ("users", "rooms", "patients")} == {
        "users": 9,
        "rooms": 4,
        "patients": 40,
    }
    assert created["visits"] > 100, "a busy month of visits"
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    patients = Patient.objects.all()
    assert len({p.sex for p in patients}) >= 2
    assert len({d.icd10_code for p in patients for d in p.diagnoses.all()}) >= 6
    assert all(p.current_weight() is not None for p in patients)
    assert User.objects.get(username="patient").patient_record.mrn == "DEMO0001"
    assert User.objects.get(username="nurse").check_password(clinic.DEMO_PASSWORD)


def test_loading_twice_changes_nothing(db):
    call_command("demo", "--quiet-logins")
    before = row_counts()
    call_command("demo", "--quiet-logins")
    assert row_counts() == before
    assert trail.verify() == []
