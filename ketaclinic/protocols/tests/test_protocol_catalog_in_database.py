"""The clinic's protocol catalog lives in the database: seeded by migrate from the shipped
file, edited in the admin with every change audited, and what dosing uses."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django import forms
from django.core.management import call_command

from ketaclinic.audit.models import AuditEvent
from ketaclinic.conftest import make_user, signed_in
from ketaclinic.plans.tests.helpers import last_event, post_json
from ketaclinic.protocols import catalog
from ketaclinic.protocols.models import Protocol
from ketaclinic.protocols.seeding import seed_protocols


@pytest.fixture
def superuser(db):
    return make_user("owner", "clinic_admin", is_staff=True, is_superuser=True)


def admin_form_data(client, protocol: Protocol) -> dict:
    """The admin change form's current values, as a browser would post them back."""
    form = client.get(f"/admin/protocols/protocol/{protocol.pk}/change/").context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()  # JSON fields come back as their JSON text
        if isinstance(field, forms.BooleanField):
            if value:
                data[name] = "on"
        else:
            data[name] = "" if value is None else value
    return data


def test_migrate_seeds_every_shipped_protocol_with_a_default_per_route(db):
    assert list(Protocol.objects.values_list("code", flat=True)) == [
        p.code for p in catalog.protocols()
    ]
    defaults = dict(Protocol.objects.filter(default_for_route=True).values_list("route", "code"))
    assert defaults == {
        "iv": "iv_racemic",
        "im": "im_racemic",
        "esketamine": "esketamine_trd",
        "sublingual": "sublingual_racemic",
        "oral": "oral_racemic",
    }


@pytest.mark.parametrize("code", [p.code for p in catalog.protocols()])
def test_each_database_row_gives_back_the_shipped_protocol(db, code):
    shipped = catalog.get_protocol(code)
    stored = Protocol.objects.get(code=code).rules()

    def numbers(rng):
        return None if rng is None else (rng.min, rng.max, rng.sources)

    assert numbers(stored.dose.allowed_mg_per_kg) == numbers(shipped.dose.allowed_mg_per_kg)
    assert numbers(stored.dose.default_mg_per_kg) == numbers(shipped.dose.default_mg_per_kg)
    assert numbers(stored.dose.allowed_fixed_mg) == numbers(shipped.dose.allowed_fixed_mg)
    assert stored.dose.allowed_doses_mg == shipped.dose.allowed_doses_mg
    assert stored.dose.first_session_max_mg == shipped.dose.first_session_max_mg
    assert stored.dose.older_adult == shipped.dose.older_adult
    assert stored.dose.sources == shipped.dose.sources
    assert (stored.infusion is None) == (shipped.infusion is None)
    if shipped.infusion:
        assert stored.infusion.default_minutes == shipped.infusion.default_minutes
        assert numbers(stored.infusion.allowed_minutes) == numbers(shipped.infusion.allowed_minutes)
    assert stored.fasting == shipped.fasting
    assert stored.monitoring == shipped.monitoring
    assert stored.phases == shipped.phases
    assert stored.course_schedules == shipped.course_schedules
    assert stored.indications == shipped.indications
    assert stored.sources == shipped.sources


def test_seeding_again_adds_nothing_and_keeps_the_clinics_edits(db):
    Protocol.objects.filter(code="iv_racemic").update(allowed_mg_per_kg_max=Decimal("0.8"))

    assert seed_protocols() == []
    call_command("seed_protocols", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert Protocol.objects.get(code="iv_racemic").allowed_mg_per_kg_max == Decimal("0.8")
    assert Protocol.objects.count() == len(catalog.protocols())


def test_a_removed_protocol_is_seeded_back_by_the_command(db):
    Protocol.objects.filter(code="oral_racemic").delete()

    call_command("seed_protocols", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert Protocol.objects.filter(code="oral_racemic").exists()
    assert last_event("protocol.seed").detail == {"codes": ["oral_racemic"]}


def test_an_admin_edit_is_audited_with_old_and_new_values(superuser):
    client = signed_in(superuser)
    protocol = Protocol.objects.get(code="iv_racemic")
    data = admin_form_data(client, protocol)
    data["allowed_mg_per_kg_max"] = "0.8"
    data["allowed_mg_per_kg_sources"] += "\nClinic medical director, 2026 review"

    response = client.post(f"/admin/protocols/protocol/{protocol.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    protocol.refresh_from_db()
    assert protocol.allowed_mg_per_kg_max == Decimal("0.8")
    event = last_event("protocol.change")
    assert event.actor == superuser
    assert event.object_id == str(protocol.pk)
    changes = event.detail["changes"]
    assert changes["allowed_mg_per_kg_max"] == ["1.000", "0.8"]
    assert changes["allowed_mg_per_kg_sources"][1].endswith("2026 review")
    assert set(changes) == {"allowed_mg_per_kg_max", "allowed_mg_per_kg_sources"}


def test_dosing_uses_the_edited_range(superuser, nurse):
    client = signed_in(superuser)
    protocol = Protocol.objects.get(code="iv_racemic")
    data = admin_form_data(client, protocol) | {"allowed_mg_per_kg_max": "0.8"}
    client.post(f"/admin/protocols/protocol/{protocol.pk}/change/", data)

    response = post_json(
        signed_in(nurse),
        "/api/v1/dosing/calculate",
        {"route": "iv", "weight_kg": 70, "dose_mg_per_kg": 0.9},
    )

    assert response.status_code == 422
    assert "0.1-0.8 mg/kg" in response.json()["message"]


def test_an_edit_the_catalog_rules_refuse_is_not_saved(superuser):
    client = signed_in(superuser)
    protocol = Protocol.objects.get(code="iv_racemic")
    before = AuditEvent.objects.filter(action="protocol.change").count()
    data = admin_form_data(client, protocol) | {"allowed_mg_per_kg_min": "0.6"}

    response = client.post(f"/admin/protocols/protocol/{protocol.pk}/change/", data)

    assert response.status_code == 200
    assert "default_mg_per_kg" in str(response.context["adminform"].form.errors)
    protocol.refresh_from_db()
    assert protocol.allowed_mg_per_kg_min == Decimal("0.1")
    assert AuditEvent.objects.filter(action="protocol.change").count() == before


def test_a_sourceless_value_is_refused(superuser):
    client = signed_in(superuser)
    protocol = Protocol.objects.get(code="iv_racemic")
    data = admin_form_data(client, protocol) | {"allowed_mg_per_kg_sources": ""}

    response = client.post(f"/admin/protocols/protocol/{protocol.pk}/change/", data)

    assert response.status_code == 200
    assert "source" in str(response.context["adminform"].form.errors)


def test_deleting_an_unused_protocol_is_audited_with_its_values(superuser):
    client = signed_in(superuser)
    protocol = Protocol.objects.get(code="oral_racemic")

    response = client.post(f"/admin/protocols/protocol/{protocol.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Protocol.objects.filter(code="oral_racemic").exists()
    event = last_event("protocol.delete")
    assert event.actor == superuser
    assert event.detail["values"]["allowed_fixed_mg_max"] == "300.0"


def test_the_api_lists_the_catalog_with_sources(nurse):
    response = signed_in(nurse).get("/api/v1/protocols")

    assert response.status_code == 200
    iv = next(p for p in response.json() if p["code"] == "iv_racemic")
    assert iv["allowed_dose"]["min"] == 0.1
    assert iv["allowed_dose"]["sources"][0].startswith("Andrade, 2017, J Clin Psychiatry")
    assert iv["course_schedules"] == ["iv_induction", "iv_maintenance"]
