"""The population band is simulated once per plan version and cached, never served stale."""

from __future__ import annotations

import re
from unittest import mock

from ketaclinic import pk
from ketaclinic.conftest import signed_in
from ketaclinic.plans import concentration
from ketaclinic.plans.tests.helpers import (
    active_plan,
    post_json,
    signed_screening,
    with_depression_history,
)


def own_curve_label(html: str) -> str:
    return re.search(r"This plan: IV [0-9.]+ mg", html).group(0)


def test_a_second_plan_page_load_simulates_nothing_and_a_dose_amendment_changes_the_band(
    prescriber, patient_a, weight_of
):
    with_depression_history(patient_a, prescriber)
    weight_of(patient_a, "80.0", days_ago=1)
    plan = active_plan(patient_a, prescriber, signed_screening(patient_a, prescriber))
    client = signed_in(prescriber)
    url = f"/patients/{patient_a.pk}/plans/{plan.pk}/"
    simulate = mock.patch.object(
        concentration.pk, "predict_population", wraps=pk.predict_population
    )

    first = client.get(url).content.decode()
    with simulate as counted:
        again = client.get(url).content.decode()
    assert counted.call_count == 0
    assert own_curve_label(again) == own_curve_label(first)

    amended = post_json(
        client,
        f"/api/v1/patients/{plan.patient_id}/plans/{plan.pk}/dose-changes",
        {"reason": "Partial response", "dose_mg_per_kg": 0.6, "from_session": 2},
    )
    assert amended.status_code in (200, 201), amended.content
    with simulate as counted:
        after = client.get(url).content.decode()
    assert counted.call_count >= 1, "the amended dose is a new key, simulated afresh"
    assert own_curve_label(after) != own_curve_label(first)


def test_the_key_holds_every_input_of_the_curve():
    doses = concentration.regimen("iv", 40)
    key = concentration.curve_key("x", doses, 70.0, 240, 1, "")
    assert key == concentration.curve_key("x", doses, 70.0, 240, 1, "")
    assert key != concentration.curve_key("x", doses, 71.0, 240, 1, "")
    assert key != concentration.curve_key("x", concentration.regimen("iv", 41), 70.0, 240, 1, "")
    assert key != concentration.curve_key("x", doses, 70.0, 240, 2, "")
