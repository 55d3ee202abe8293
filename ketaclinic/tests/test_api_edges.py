"""Inputs that used to answer 500 (or 200 with NaN) answer a 4xx in the API's error shape,
naming the field and the rule; and every API error, 404, 405, 413 and 500 included, is JSON."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client

from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.charting.tests.floor import make_chairs, make_session, monitor_in, post_vitals
from ketaclinic.charting.tests.floor import reading as monitor_reading
from ketaclinic.conftest import signed_in
from ketaclinic.protocols import api as protocols_api
from ketaclinic.web import inputs

DOSING = "/api/v1/dosing/calculate"
PK = "/api/v1/pk/predict"
IV_DOSE = {"route": "iv", "weight_kg": 70, "dose_mg_per_kg": 0.5}
ESKETAMINE = {"route": "esketamine", "dose_mg": 56, "session_number": 1, "age_years": 40}
PK_BODY = {
    "weight_kg": 70,
    "doses": [{"route": "iv", "dose_mg": 35, "start_min": 0, "duration_min": 40}],
    "times_min": [0, 40],
}


def post_raw(client: Client, url: str, body: str):
    return client.post(url, body, content_type="application/json")


def post(client: Client, url: str, body):
    return post_raw(client, url, json.dumps(body))


def field_errors(response) -> dict[str, str]:
    body = response.json()
    assert set(body) >= {"message", "errors"}
    return {error["field"]: error["message"] for error in body["errors"]}


# ---------------------------------------------------------------- bodies no field can hold


def test_json_nested_twenty_thousand_deep_is_refused_not_a_crash(prescriber):
    response = post_raw(signed_in(prescriber), DOSING, "[" * 20_000 + "]" * 20_000)

    assert response.status_code == 422
    assert "nested too deeply" in response.json()["message"]
    event = AuditEvent.objects.filter(action="api.invalid").last()
    assert event.outcome == Outcome.INVALID


def test_json_deeper_than_the_limit_but_parseable_names_where_it_stops(prescriber):
    nested = {
        "route": "iv",
        "weight_kg": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
    }

    response = post(signed_in(prescriber), DOSING, nested)

    assert response.status_code == 422
    (field,) = field_errors(response)
    assert field.startswith("weight_kg.0.0")


@pytest.mark.parametrize("number", ["1e400", "-1e400", "NaN", "Infinity", "-Infinity"])
def test_a_number_that_is_not_finite_is_refused_naming_the_field(prescriber, number):
    body = json.dumps(IV_DOSE).replace('"weight_kg": 70', f'"weight_kg": {number}')

    response = post_raw(signed_in(prescriber), DOSING, body)

    assert response.status_code == 422
    assert field_errors(response) == {"weight_kg": "must be a finite number"}


@pytest.mark.parametrize("number", ["99999999999999999999", "1e30", "-9223372036854775809"])
def test_a_number_beyond_64_bits_is_refused_naming_the_field(prescriber, number):
    body = json.dumps(ESKETAMINE).replace('"age_years": 40', f'"age_years": {number}')

    response = post_raw(signed_in(prescriber), DOSING, body)

    assert response.status_code == 422
    assert field_errors(response) == {"age_years": inputs.OUT_OF_RANGE}


def test_a_nul_character_in_a_string_or_a_key_is_refused_naming_it(prescriber):
    client = signed_in(prescriber)

    in_value = post(client, DOSING, IV_DOSE | {"override_reason": "tired\x00"})
    in_key = post(client, DOSING, IV_DOSE | {"weight\x00": 1})
    nested = post(client, PK, PK_BODY | {"doses": [{"route": "iv\x00", "dose_mg": 35}]})

    assert in_value.status_code == in_key.status_code == nested.status_code == 422
    assert "NUL" in field_errors(in_value)["override_reason"]
    assert "NUL" in field_errors(in_key)["weight\\x00"]
    assert "NUL" in field_errors(nested)["doses.0.route"]


def test_a_lone_surrogate_is_refused(prescriber):
    response = post_raw(signed_in(prescriber), DOSING, '{"route": "iv", "protocol": "\\ud800"}')

    assert response.status_code == 422
    assert "Unicode" in field_errors(response)["protocol"]


def test_a_body_that_is_not_json_is_a_422(prescriber):
    response = post_raw(signed_in(prescriber), DOSING, "{route: iv")

    assert response.status_code == 422
    assert response.json() == {
        "message": "The body is not valid JSON.",
        "errors": [{"field": "", "message": "The body is not valid JSON."}],
    }


def test_a_body_over_the_upload_limit_is_a_413(prescriber, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = post(signed_in(prescriber), DOSING, IV_DOSE | {"override_reason": "x" * 2000})

    assert response.status_code == 413
    assert response.json()["message"] == "The request body is too large."


# ---------------------------------------------------------------- query strings and paths


def test_nul_in_an_api_query_is_a_422_naming_the_parameter(prescriber):
    response = signed_in(prescriber).get("/api/v1/patients", {"q": "Ada\x00"})

    assert response.status_code == 422
    assert field_errors(response) == {
        "q": "q: must not contain NUL characters (\\x00) or lone surrogates"
    }


def test_nul_in_a_page_query_or_form_is_a_400_page_naming_the_parameter(prescriber):
    client = signed_in(prescriber)

    searched = client.get("/patients/?q=%00")
    posted = client.post("/patients/new/", {"given_name": "A\x00da"})

    assert searched.status_code == posted.status_code == 400
    assert searched["Content-Type"].startswith("text/html")
    assert "q: must not contain NUL" in searched.content.decode()
    assert "given_name: must not contain NUL" in posted.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/patients/99999999999999999999",
        "/api/v1/appointments/99999999999999999999",
        "/api/v1/patients/1/plans/18446744073709551616",
        "/api/v1/inventory/lots/9223372036854775808",
    ],
)
def test_an_id_beyond_64_bits_is_not_found(prescriber, url):
    response = signed_in(prescriber).get(url)

    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "errors": []}


def test_a_page_id_beyond_64_bits_is_not_found(prescriber):
    assert signed_in(prescriber).get("/patients/99999999999999999999/").status_code == 404


def test_an_offset_beyond_64_bits_is_a_422_naming_it(prescriber):
    response = signed_in(prescriber).get("/api/v1/patients", {"offset": "99999999999999999999"})

    assert response.status_code == 422
    assert "offset" in field_errors(response)


# ---------------------------------------------------------------- out-of-range values


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (ESKETAMINE | {"session_number": -1}, "session_number", "greater than or equal to 1"),
        (ESKETAMINE | {"session_number": 0}, "session_number", "greater than or equal to 1"),
        (ESKETAMINE | {"age_years": -3}, "age_years", "greater than or equal to 0"),
        (ESKETAMINE | {"age_years": 400}, "age_years", "older than any patient"),
        (IV_DOSE | {"duration_min": -5}, "duration_min", "greater than or equal to 1"),
        (IV_DOSE | {"dose_mg_per_kg": 1e308}, "dose_mg_per_kg", "must be a number from"),
    ],
)
def test_the_dose_calculator_refuses_values_out_of_range(prescriber, body, field, words):
    response = post(signed_in(prescriber), DOSING, body)

    assert response.status_code == 422
    errors = field_errors(response)
    assert words in errors[field]


def test_the_age_limit_comes_from_the_earliest_birth_date_the_record_accepts(prescriber):
    oldest = protocols_api.oldest_age_years(protocols_api.timezone.localdate())

    accepted = post(signed_in(prescriber), DOSING, ESKETAMINE | {"age_years": oldest})
    refused = post(signed_in(prescriber), DOSING, ESKETAMINE | {"age_years": oldest + 1})

    assert accepted.status_code == 200
    assert refused.status_code == 422
    assert "1900-01-01" in field_errors(refused)["age_years"]


@pytest.mark.parametrize("weight", [1e18, 1e-300, 0.5, 400])
def test_pk_predict_refuses_a_weight_the_dose_calculator_would_refuse(prescriber, weight):
    response = post(signed_in(prescriber), PK, PK_BODY | {"weight_kg": weight})

    assert response.status_code == 422
    assert "30-250 kg" in field_errors(response)["weight_kg"]


def test_pk_predict_refuses_a_weight_of_1e308(prescriber):
    response = post(signed_in(prescriber), PK, PK_BODY | {"weight_kg": 1e308})

    assert response.status_code == 422
    assert field_errors(response) == {"weight_kg": inputs.OUT_OF_RANGE}


def test_pk_predict_never_answers_nan(prescriber):
    body = PK_BODY | {
        "doses": [{"route": "iv", "dose_mg": 1e18, "start_min": 0, "duration_min": 1e-300}]
    }

    response = post(signed_in(prescriber), PK, body)

    assert response.status_code in (200, 422)
    assert "NaN" not in response.content.decode()
    assert "Infinity" not in response.content.decode()


def test_an_answer_carrying_nan_is_a_logged_500_never_nan(prescriber, monkeypatch, caplog):
    monkeypatch.setattr(protocols_api, "number", lambda value: float("nan"))

    with caplog.at_level(logging.ERROR, logger="ketaclinic.api"):
        response = post(signed_in(prescriber), DOSING, IV_DOSE)

    assert response.status_code == 500
    assert "NaN" not in response.content.decode()
    assert response.json()["message"] == "Something went wrong on our side; it has been logged."
    assert "Unhandled error on POST /api/v1/dosing/calculate" in caplog.text


# ---------------------------------------------------------------- every API error is JSON


def test_an_unknown_api_path_is_a_json_404(prescriber):
    response = signed_in(prescriber).get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"message": "Not found.", "errors": []}


def test_a_wrong_method_is_a_json_405_naming_the_allowed_ones(prescriber):
    response = signed_in(prescriber).get(DOSING)

    assert response.status_code == 405
    assert response.json()["message"].endswith("Allowed: POST.")
    assert response["Allow"] == "POST"


def test_an_unexpected_error_is_a_json_500_and_is_logged(prescriber, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("simulated fault")

    monkeypatch.setattr(protocols_api.dosing, "calculate_dose", broken)

    with caplog.at_level(logging.ERROR, logger="ketaclinic.api"):
        response = post(signed_in(prescriber), DOSING, IV_DOSE)

    assert response.status_code == 500
    assert response.json() == {
        "message": "Something went wrong on our side; it has been logged.",
        "errors": [],
    }
    assert "simulated fault" in caplog.text


def test_a_monitor_temperature_too_long_to_round_is_rejected_not_a_crash(
    prescriber, nurse, patient_a
):
    (chair,) = make_chairs(1)
    session = make_session(patient=patient_a, prescriber=prescriber, nurse=nurse, chair=chair)
    _, token = monitor_in(chair)

    response = post_vitals(session.pk, token, monitor_reading(1, temperature_c=2.1e154))

    assert response.status_code == 422
    (rejection,) = response.json()["rejected"]
    assert rejection["field"] == "temperature_c"


def test_pages_keep_their_html_error_pages(prescriber):
    response = signed_in(prescriber).get("/patients/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_an_out_of_range_query_number_the_database_refuses_is_a_422_naming_it(
    prescriber, monkeypatch
):
    def overflowing(*args, **kwargs):
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    monkeypatch.setattr(protocols_api.Protocol.objects, "active", overflowing)

    response = signed_in(prescriber).get("/api/v1/protocols", {"page": "99999999999999999999"})

    assert response.status_code == 422
    assert field_errors(response) == {"page": inputs.OUT_OF_RANGE}
