"""The plan page predicts how the planned dose behaves, with a band, the effect ranges and a
route comparison, worded as a model prediction."""

from __future__ import annotations

import json
import re

from ketaclinic.conftest import signed_in
from ketaclinic.plans import concentration

from .helpers import active_plan, signed_screening, with_depression_history


def plan_for(patient, prescriber, weight_of):
    weight_of(patient, "70.0")
    with_depression_history(patient, prescriber)
    return active_plan(patient, prescriber, signed_screening(patient, prescriber))


def test_the_figure_has_the_band_the_plan_and_two_comparison_routes(
    patient_a, prescriber, weight_of
):
    plan = plan_for(patient_a, prescriber, weight_of)
    shown = concentration.plan_figure(plan, patient=patient_a, dose_mg=plan.dose_mg)
    names = [trace["name"] for trace in shown["figure"]["data"]]
    assert names == [
        "95th percentile",
        "5th–95th percentile",
        "This plan: IV 35.0 mg",
        "IM 0.5 mg/kg",
        "Sublingual 5 mg/kg (at-home first dose)",
    ]
    own = shown["figure"]["data"][2]
    assert max(own["y"]) == max(own["y"][35:45]), "an IV infusion peaks at its end"
    assert 150 < max(own["y"]) < 200
    labels = [a["text"] for a in shown["figure"]["layout"]["annotations"]]
    assert "Dissociation 100–250" in labels
    assert "Antidepressant infusion peak (observed)" in labels
    assert "not a measurement" in shown["disclaimer"]


def test_the_plan_page_shows_the_prediction_and_its_sources(patient_a, prescriber, weight_of):
    plan = plan_for(patient_a, prescriber, weight_of)
    page = signed_in(prescriber).get(f"/patients/{patient_a.pk}/plans/{plan.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Model prediction from published population data" in html
    assert "/static/vendor/plotly-basic.min.js" in html
    figure = json.loads(
        re.search(
            r'<script id="pk-figure" type="application/json">(.*?)</script>', html, re.S
        ).group(1)
    )
    assert len(figure["data"]) == 5
    assert "Krystal et al., 1994, Arch Gen Psychiatry" in html


def test_front_desk_sees_no_dose_curve(patient_a, prescriber, front_desk, weight_of):
    plan = plan_for(patient_a, prescriber, weight_of)
    html = signed_in(front_desk).get(f"/patients/{patient_a.pk}/plans/{plan.pk}/").content.decode()
    assert 'id="pk-plot"' not in html
