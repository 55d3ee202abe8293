"""The new-plan form starts on the protocol the catalog chooses for the screening's route and
indication: esketamine for depression with acute suicidal ideation starts on its own protocol
(84 mg from session 1), anything else on the route's default."""

from __future__ import annotations

import pytest

from ketaclinic.conftest import signed_in
from ketaclinic.plans.tests.helpers import signed_screening, with_depression_history


@pytest.fixture
def ready(prescriber, patient_a, weight_of):
    with_depression_history(patient_a, prescriber)
    weight_of(patient_a, "70.0", days_ago=2)
    return patient_a


def form_initial(prescriber, patient) -> dict:
    response = signed_in(prescriber).get(f"/patients/{patient.pk}/plans/new/")
    assert response.status_code == 200
    return response.context["form"].initial


def test_esketamine_for_suicidal_ideation_starts_on_its_protocol_and_schedule(prescriber, ready):
    signed_screening(
        ready,
        prescriber,
        route="esketamine",
        indication="mdd_suicidal_ideation",
        oral_antidepressant=True,
    )

    initial = form_initial(prescriber, ready)

    assert initial["protocol"] == "esketamine_mdsi"
    assert initial["dose_mg"] == 84
    assert initial["schedule_code"] == "esketamine_mdsi"


def test_esketamine_for_treatment_resistant_depression_starts_on_the_default(prescriber, ready):
    signed_screening(ready, prescriber, route="esketamine", indication="trd")

    initial = form_initial(prescriber, ready)

    assert initial["protocol"] == "esketamine_trd"
    assert initial["dose_mg"] == 56


def test_iv_starts_on_the_iv_default(prescriber, ready):
    signed_screening(ready, prescriber)

    initial = form_initial(prescriber, ready)

    assert initial["protocol"] == "iv_racemic"
    assert initial["schedule_code"] == "iv_induction"
