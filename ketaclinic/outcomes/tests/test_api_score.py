"""POST /api/v1/instruments/{code}/score: the stable shape, every PHQ-9 band boundary, and
422 naming the item for a wrong answer count or an answer the item does not offer."""

from __future__ import annotations

import json

import pytest

from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.conftest import signed_in
from ketaclinic.outcomes.tests.factories import answers_totalling

URL = "/api/v1/instruments/{}/score"


def post(client, code: str, body) -> tuple[int, dict]:
    response = client.post(URL.format(code), json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


@pytest.fixture
def client(nurse):
    return signed_in(nurse)


PHQ9_BOUNDARIES = [
    (0, "minimal"),
    (4, "minimal"),
    (5, "mild"),
    (9, "mild"),
    (10, "moderate"),
    (14, "moderate"),
    (15, "moderately_severe"),
    (19, "moderately_severe"),
    (20, "severe"),
    (27, "severe"),
]


@pytest.mark.parametrize(("total", "band"), PHQ9_BOUNDARIES)
def test_every_phq9_band_boundary_through_the_endpoint(client, total, band):
    # 27 needs item 9 at its maximum too, which raises the flag.
    item9 = max(0, total - 24)
    answers = answers_totalling("phq9", total, item9=item9)

    status, body = post(client, "phq9", {"answers": answers})

    assert status == 200
    assert body == {
        "instrument": "phq9",
        "total": total,
        "band": band,
        "flags": ["suicidal_ideation"] if item9 else [],
        "subscores": {},
    }


def test_the_documented_example_scores_fourteen_moderate(client):
    status, body = post(client, "phq9", {"answers": [2, 2, 2, 2, 2, 2, 1, 1, 0]})

    assert status == 200
    assert body == {
        "instrument": "phq9",
        "total": 14,
        "band": "moderate",
        "flags": [],
        "subscores": {},
    }


def test_an_item_9_answer_raises_the_suicidal_ideation_flag(client):
    status, body = post(client, "phq9", {"answers": [0, 0, 0, 0, 0, 0, 0, 0, 1]})

    assert status == 200
    assert body["flags"] == ["suicidal_ideation"]
    assert body["total"] == 1


@pytest.mark.parametrize(
    ("total", "band"), [(4, "minimal"), (5, "mild"), (10, "moderate"), (15, "severe")]
)
def test_gad7_bands(client, total, band):
    status, body = post(client, "gad7", {"answers": answers_totalling("gad7", total)})

    assert status == 200
    assert (body["total"], body["band"]) == (total, band)


def test_pcl5_adds_cluster_subscores_and_the_provisional_diagnosis(client):
    answers = [2] * 5 + [2, 0] + [2, 2, 0, 0, 0, 0, 0] + [2, 2, 0, 0, 0, 0]

    status, body = post(client, "pcl5", {"answers": answers})

    assert status == 200
    assert body["subscores"] == {"B": 10, "C": 2, "D": 4, "E": 4}
    assert body["total"] == 20
    assert body["provisional_ptsd"] is True
    assert set(body) == {"instrument", "total", "band", "flags", "subscores", "provisional_ptsd"}


def test_pcl5_without_enough_avoidance_is_not_a_provisional_diagnosis(client):
    status, body = post(client, "pcl5", {"answers": [4] * 5 + [0, 1] + [4] * 13})

    assert status == 200
    assert body["provisional_ptsd"] is False


def test_too_many_answers_is_422_naming_the_first_extra_item(client):
    status, body = post(client, "phq9", {"answers": [0] * 10})

    assert status == 422
    assert body["errors"][0]["field"] == "item_10"
    assert "item 10" in body["message"]


def test_too_few_answers_is_422_naming_the_first_missing_item(client):
    status, body = post(client, "phq9", {"answers": [1] * 7})

    assert status == 422
    assert body["errors"][0]["field"] == "item_8"
    assert "item 8" in body["message"]


def test_a_null_answer_is_422_naming_that_item(client):
    status, body = post(client, "phq9", {"answers": [1, 1, None, 1, 1, 1, 1, 1, 1]})

    assert status == 422
    assert body["errors"][0]["field"] == "item_3"


@pytest.mark.parametrize("bad", [4, -1, 2.5, "2", True])
def test_an_answer_the_item_does_not_offer_is_422_naming_the_item(client, bad):
    answers = [0, 0, 0, 0, bad, 0, 0, 0, 0]

    status, body = post(client, "phq9", {"answers": answers})

    assert status == 422
    assert body["errors"][0]["field"] == "item_5"
    assert "item 5" in body["message"]


def test_an_unknown_instrument_is_404(client):
    status, body = post(client, "cssrs", {"answers": [0]})

    assert status == 404
    assert body["message"] == "Not found."


def test_an_unknown_field_is_refused(client):
    status, _body = post(client, "phq9", {"answers": [0] * 9, "patient": 3})

    assert status == 422


def test_scoring_is_audited_with_the_result(client, nurse):
    post(client, "phq9", {"answers": [1] * 9})
    post(client, "phq9", {"answers": [9] * 9})

    events = list(AuditEvent.objects.filter(action="instrument.score").order_by("seq"))
    assert [e.outcome for e in events] == [Outcome.SUCCESS, Outcome.INVALID]
    assert events[0].actor == nurse
    assert events[0].detail["total"] == 9


def test_anonymous_callers_get_401(db):
    from django.test import Client

    status, _ = post(Client(), "phq9", {"answers": [0] * 9})

    assert status == 401


def test_a_patient_may_not_use_the_staff_calculator(patient_a):
    status, _ = post(signed_in(patient_a.user), "phq9", {"answers": [0] * 9})

    assert status == 403


def test_the_clinics_instruments_are_listed(client):
    response = client.get("/api/v1/instruments")

    assert response.status_code == 200
    phq9 = next(i for i in response.json() if i["code"] == "phq9")
    assert phq9 == {
        "code": "phq9",
        "name": "Patient Health Questionnaire-9 (PHQ-9)",
        "version": 1,
        "rater": "patient",
        "origin": "shipped",
        "items": 9,
        "total_min": 0,
        "total_max": 27,
    }


def test_the_endpoints_are_in_the_openapi_schema(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    assert "/api/v1/instruments/{code}/score" in paths
    assert "/api/v1/outcomes/change" in paths
    assert "/api/v1/patients/{patient_id}/outcomes/responses" in paths
