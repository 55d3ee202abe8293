"""Instrument definitions live in the database: shipped ones seeded, a licensed clinic loads
its own (a C-SSRS screener) through the same validation, every change audited."""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from django.urls import reverse
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.conftest import signed_in
from ketaclinic.outcomes.models import (
    Channel,
    DefinitionOrigin,
    InstrumentDefinition,
    Response,
    SafetyTask,
)
from ketaclinic.outcomes.tests.test_clinic_supplied_screener import SCREENER

PAGE = reverse("outcomes:instruments")


def load(client, definition: dict):
    return client.post(PAGE, {"definition": yaml.safe_dump(definition)})


def test_the_shipped_instruments_are_seeded_and_the_cssrs_is_not(db):
    codes = set(InstrumentDefinition.objects.values_list("code", flat=True))

    assert {"phq9", "gad7", "pcl5", "qids_sr16", "madrs", "pain_nrs", "dissociation_nrs"} <= codes
    assert not any("cssrs" in code for code in codes)
    assert set(InstrumentDefinition.objects.values_list("origin", flat=True)) == {
        DefinitionOrigin.SHIPPED
    }


def test_a_clinic_admin_loads_a_licensed_screener(clinic_admin):
    response = load(signed_in(clinic_admin), SCREENER)

    assert response.status_code == 302
    loaded = InstrumentDefinition.objects.get(code="cssrs_screener")
    assert (loaded.origin, loaded.version, loaded.loaded_by) == (
        DefinitionOrigin.CLINIC,
        1,
        clinic_admin,
    )
    event = AuditEvent.objects.get(action="instrument.load")
    assert event.detail["new"]["version"] == 1
    assert event.detail["old"] is None


def test_the_loaded_screener_scores_through_the_api_and_its_flag_opens_a_task(
    clinic_admin, prescriber, patient_a
):
    load(signed_in(clinic_admin), SCREENER)
    client = signed_in(prescriber)

    scored = client.post(
        "/api/v1/instruments/cssrs_screener/score",
        json.dumps({"answers": [1, 1, 1, 0, 0, 2]}),
        content_type="application/json",
    )
    assert scored.status_code == 200
    assert scored.json()["band"] == "high"

    entry = client.post(
        reverse("outcomes:enter", kwargs={"patient_id": patient_a.pk}),
        {
            "instrument": "cssrs_screener",
            "channel": Channel.INTERVIEW,
            "answered_on": timezone.localdate().isoformat(),
            **{f"item_{n}": v for n, v in enumerate(["1", "1", "1", "0", "0", "2"], start=1)},
        },
    )
    assert entry.status_code == 302
    assert Response.objects.get().flags == ["suicidal_behaviour"]
    assert SafetyTask.objects.get().flag == "suicidal_behaviour"


def test_a_definition_that_fails_validation_is_refused_and_audited(clinic_admin):
    broken = copy.deepcopy(SCREENER)
    broken["total"] = {"min": 0, "max": 4}

    response = load(signed_in(clinic_admin), broken)

    assert response.status_code == 422
    assert "declared 0–4 but items give 0–3" in response.content.decode()
    assert not InstrumentDefinition.objects.filter(code="cssrs_screener").exists()
    assert AuditEvent.objects.filter(action="instrument.load", outcome=Outcome.INVALID).exists()


def test_a_change_needs_a_higher_version_and_keeps_both_in_the_trail(clinic_admin):
    client = signed_in(clinic_admin)
    load(client, SCREENER)
    same = load(client, SCREENER)
    assert same.status_code == 422

    newer = {**SCREENER, "version": 2, "name": "C-SSRS screener v2 (fixture)"}
    assert load(client, newer).status_code == 302

    assert InstrumentDefinition.objects.get(code="cssrs_screener").version == 2
    event = (
        AuditEvent.objects.filter(action="instrument.load", outcome=Outcome.SUCCESS)
        .order_by("seq")
        .last()
    )
    assert (event.detail["old"]["version"], event.detail["new"]["version"]) == (1, 2)


def test_responses_keep_the_version_they_were_answered_on(clinic_admin, nurse, patient_a):
    client = signed_in(clinic_admin)
    load(client, SCREENER)
    signed_in(nurse).post(
        reverse("outcomes:enter", kwargs={"patient_id": patient_a.pk}),
        {
            "instrument": "cssrs_screener",
            "channel": Channel.INTERVIEW,
            "answered_on": timezone.localdate().isoformat(),
            **{f"item_{n}": "0" for n in range(1, 7)},
        },
    )
    load(client, {**SCREENER, "version": 2})

    assert Response.objects.get().instrument_version == 1


def test_retiring_an_instrument_takes_it_off_the_api(clinic_admin, nurse):
    signed_in(clinic_admin).post(
        reverse("outcomes:instrument_status", kwargs={"code": "gad7"}), {"status": "retired"}
    )

    scored = signed_in(nurse).post(
        "/api/v1/instruments/gad7/score",
        json.dumps({"answers": [0] * 7}),
        content_type="application/json",
    )
    assert scored.status_code == 404
    assert AuditEvent.objects.get(action="instrument.status").detail == {
        "code": "gad7",
        "old": "active",
        "new": "retired",
    }


@pytest.mark.parametrize("who", ["prescriber", "nurse", "front_desk"])
def test_only_the_clinic_admin_loads_definitions(cast, who):
    assert load(signed_in(cast[who]), SCREENER).status_code == 403
