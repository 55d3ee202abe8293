"""The OpenAPI document is a contract a client can generate code from: one schema per name,
and every operation documents the errors it can answer with the error schema."""

from __future__ import annotations

import pytest

from ketaclinic.api import api, schema_name_collisions

ERROR_REF = {"$ref": "#/components/schemas/ApiError"}


@pytest.fixture(scope="module")
def document():
    return api.get_openapi_schema()


def operations(document):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def test_no_two_schema_classes_share_a_name():
    assert schema_name_collisions() == {}


def test_the_dose_calculator_is_documented_with_its_own_request_schema(document):
    body = document["paths"]["/api/v1/dosing/calculate"]["post"]["requestBody"]
    reference = body["content"]["application/json"]["schema"]["$ref"]
    fields = document["components"]["schemas"][reference.rsplit("/", 1)[1]]["properties"]

    assert {"route", "weight_kg", "dose_mg_per_kg", "session_number", "age_years"} <= set(fields)


def test_every_operation_documents_401_403_404_and_422_with_the_error_schema(document):
    missing = []
    for label, operation in operations(document):
        wanted = {"403", "404", "422"} | ({"401"} if operation.get("security") else set())
        for status in wanted:
            answer = operation["responses"].get(int(status)) or operation["responses"].get(status)
            if answer is None:
                missing.append(f"{label}: {status}")
    assert missing == []


def test_error_answers_added_to_the_document_use_the_error_schema(document):
    schemas = document["components"]["schemas"]
    assert set(schemas["ApiError"]["required"]) == {"message", "errors"}
    assert "ApiFieldError" in schemas
    for _label, operation in operations(document):
        answer = operation["responses"].get(403)
        assert answer["content"]["application/json"]["schema"] == ERROR_REF


def test_operations_that_answer_409_document_it(document):
    conflicts = {
        label
        for label, operation in operations(document)
        if 409 in operation["responses"] or "409" in operation["responses"]
    }
    assert {
        "POST /api/v1/appointments",
        "POST /api/v1/patients/{patient_id}/plans/{plan_id}/sign",
    } <= conflicts


def test_every_operation_has_a_unique_operation_id(document):
    ids = [operation["operationId"] for _label, operation in operations(document)]
    assert len(ids) == len(set(ids))


def body_classes():
    """(operationId, schema class) for each operation whose body is one schema class."""
    for bound in api._get_bound_routers():
        for path_view in bound.path_operations.values():
            for operation in path_view.operations:
                for model in operation.models:
                    if model.__ninja_param_source__ != "body":
                        continue
                    fields = list(model.model_fields.values())
                    if len(fields) == 1 and isinstance(fields[0].annotation, type):
                        op_id = operation.operation_id or api.get_openapi_operation_id(operation)
                        yield op_id, fields[0].annotation


def test_every_request_body_is_documented_with_its_own_fields(document):
    by_id = {operation["operationId"]: operation for _label, operation in operations(document)}
    schemas = document["components"]["schemas"]
    wrong = []
    for op_id, schema_class in body_classes():
        body = by_id[op_id]["requestBody"]["content"]["application/json"]["schema"]
        if "$ref" not in body:
            continue
        documented = set(schemas[body["$ref"].rsplit("/", 1)[1]].get("properties", {}))
        own = set(schema_class.model_json_schema(by_alias=True).get("properties", {}))
        if documented != own:
            wrong.append(f"{op_id}: documented {sorted(documented)}, reads {sorted(own)}")
    assert wrong == []
