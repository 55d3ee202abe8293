"""The live session's predicted concentration follows the administration record."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from ketaclinic.charting import administration_service, concentration
from ketaclinic.conftest import signed_in

from .session_makers import ago, open_session, request_by, started


@pytest.fixture
def running(patient_a, prescriber, nurse):
    session = open_session(patient_a, prescriber, nurse, "iv")
    return started(session, nurse, prescriber, minutes_ago=20)


def test_the_regimen_is_the_record_and_its_dose_is_what_was_delivered(running, nurse):
    administration_service.infusion_record(
        request=request_by(nurse),
        session=running,
        kind="rate_change",
        at=ago(10),
        rate_mg_per_min=Decimal("0.5"),
        reason="anxious",
    )
    doses = concentration.given_regimen(running)
    assert [d["route"] for d in doses] == ["iv", "iv"]
    assert doses[1]["start_min"] == pytest.approx(10, abs=0.05)
    assert doses[1]["dose_mg"] / doses[1]["duration_min"] == pytest.approx(0.5)
    delivered = administration_service.session_delivered(running).exact_total_mg
    assert sum(d["dose_mg"] for d in doses) == pytest.approx(float(delivered), rel=1e-3)


def test_the_panel_draws_given_against_planned_with_now_marked(running, nurse):
    response = signed_in(nurse).get(f"/sessions/{running.pk}/concentration/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "not a measurement" in html
    figure = json.loads(
        re.search(
            r'id="session-pk-figure" type="application/json">(.*?)</script>', html, re.S
        ).group(1)
    )
    names = [trace["name"] for trace in figure["data"]]
    assert "Predicted from what was given" in names
    assert any(name.startswith("As planned") for name in names)
    now_lines = [a for a in figure["layout"]["annotations"] if a["text"] == "now"]
    assert now_lines
    assert now_lines[0]["x"] == pytest.approx(20, abs=0.5)


def test_another_patients_session_curve_is_not_found(running, patient_b):
    assert (
        signed_in(patient_b.user).get(f"/sessions/{running.pk}/concentration/").status_code == 404
    )
