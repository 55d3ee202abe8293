"""The JSON API at /api/v1/: authentication, error shape, and each app's router.

Errors always read ``{"message": "...", "errors": [{"field": "...", "message": "..."}]}``:
422 for validation (the field at fault named), 409 for conflicts, 404 for what the caller
may not see, 401/403 for authentication and role.
"""

from __future__ import annotations

import logging
import re
import typing

from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    ValidationError,
)
from django.db import DataError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaValidationError
from ninja.parser import Parser
from ninja.security import django_auth
from pydantic import BaseModel

from ketaclinic.accounts.permissions import STAFF
from ketaclinic.accounts.tokens import BearerToken
from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.billing.api import router as billing_router
from ketaclinic.charting.api import router as charting_router
from ketaclinic.intake.api import router as intake_router
from ketaclinic.intake.portal_api import router as intake_portal_router
from ketaclinic.inventory.api import router as inventory_router
from ketaclinic.outcomes.api import router as outcomes_router
from ketaclinic.patients.api import router as patients_router
from ketaclinic.plans.api import router as plans_router
from ketaclinic.plans.pk_api import router as pharmacokinetics_router
from ketaclinic.protocols.api import router as protocols_router
from ketaclinic.scheduling.api import patients_router as patient_scheduling_router
from ketaclinic.scheduling.api import router as scheduling_router
from ketaclinic.screening.api import router as screening_router
from ketaclinic.web import inputs, json_answer
from ketaclinic.web.docs import staff_only
from ketaclinic.web.json_errors import ApiError, error_body

LOCATION_WORDS = {"body", "query", "path", "payload", "header", "cookie", "form"}


class StrictJsonParser(Parser):
    """Bodies through ``web.inputs.load_json``: too deep, NaN, 1e400, NUL are named 422s."""

    def parse_body(self, request):
        return inputs.load_json(request.body)


ERROR_SCHEMA = ApiError.model_json_schema(ref_template="#/components/schemas/{model}")
ERROR_STATUSES = {
    401: "No valid bearer token or signed-in session",
    403: "The caller's role may not do this",
    404: "Not found, or not the caller's to see",
    422: "Invalid input; each error names the field and the rule",
}
BODY_ERROR_STATUSES = {413: "The request body is too large"}


class ClinicAPI(NinjaAPI):
    """The API with its error answers documented on every operation."""

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schemas = schema["components"].setdefault("schemas", {})
        schemas.update(ERROR_SCHEMA.get("$defs", {}))
        schemas["ApiError"] = {key: v for key, v in ERROR_SCHEMA.items() if key != "$defs"}
        for operations in schema["paths"].values():
            for operation in operations.values():
                document_errors(operation)
        return schema


def document_errors(operation: dict) -> None:
    statuses = dict(ERROR_STATUSES)
    if "requestBody" in operation:
        statuses.update(BODY_ERROR_STATUSES)
    if not operation.get("security"):
        statuses.pop(401)
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}
    for status, description in statuses.items():
        operation["responses"].setdefault(status, {"description": description, "content": content})


api = ClinicAPI(
    title="ketaclinic API",
    version="1",
    description="Runs a ketamine-therapy clinic. Authenticate with a bearer token "
    "(`manage.py token_create USERNAME`) or a signed-in session with CSRF.",
    auth=[BearerToken(), django_auth],
    urls_namespace="api",
    # The Swagger page and the schema: signed-in staff only (Swagger UI from ninja's static).
    docs_decorator=staff_only(lambda user: user.role in STAFF),
    parser=StrictJsonParser(),
    renderer=json_answer.RENDERER,
)
logger = logging.getLogger("ketaclinic.api")
INTEGER = re.compile(r"^\s*[+-]?\d+\s*$")


def field_of(location) -> str:
    return ".".join(str(part) for part in location if str(part) not in LOCATION_WORDS)


@api.exception_handler(SchemaValidationError)
def schema_invalid(request, exc: SchemaValidationError):
    errors = [
        {"field": field_of(item.get("loc", [])), "message": item["msg"]} for item in exc.errors
    ]
    summary = "; ".join(f"{item['field'] or 'body'}: {item['message']}" for item in errors)
    trail.record(
        action="api.invalid", request=request, outcome=Outcome.INVALID, detail={"errors": errors}
    )
    return api.create_response(request, error_body(summary, errors), status=422)


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    # django-ninja answers an unreadable body 400 "Cannot parse request body"; the parser's
    # reason is the cause, and it names the field.
    cause = exc.__cause__
    if isinstance(cause, inputs.InvalidInput):
        return invalid_input(request, cause)
    if isinstance(cause, RequestDataTooBig):
        return too_large(request, cause)
    return api.create_response(request, error_body(str(exc)), status=exc.status_code)


def invalid_input(request, problem: inputs.InvalidInput):
    errors = [problem.as_error()]
    trail.record(
        action="api.invalid", request=request, outcome=Outcome.INVALID, detail={"errors": errors}
    )
    return api.create_response(request, error_body(str(problem), errors), status=422)


@api.exception_handler(RequestDataTooBig)
def too_large(request, exc):
    return api.create_response(request, error_body("The request body is too large."), status=413)


@api.exception_handler(SuspiciousOperation)
def unreadable(request, exc):
    return api.create_response(request, error_body("The request could not be read."), status=400)


@api.exception_handler(OverflowError)
@api.exception_handler(DataError)
def out_of_range(request, exc):
    """A number no column holds (SQLite: OverflowError; PostgreSQL: DataError)."""
    field = oversized_parameter(request)
    message = (
        f"{field}: {inputs.OUT_OF_RANGE}"
        if field
        else "A value could not be stored: a number out of range or a character refused."
    )
    errors = [{"field": field, "message": inputs.OUT_OF_RANGE}] if field else []
    return api.create_response(request, error_body(message, errors), status=422)


def oversized_parameter(request) -> str:
    """The query parameter holding a whole number no 64-bit column can store, if any."""
    for name, values in request.GET.lists():
        for value in values:
            if INTEGER.match(value) and not fits_int64(value):
                return name
    return ""


def fits_int64(text: str) -> bool:
    try:
        return inputs.INT64_MIN <= int(text) <= inputs.INT64_MAX
    except ValueError:  # more digits than Python converts
        return False


def schema_name_collisions(of: NinjaAPI | None = None) -> dict[str, list[str]]:
    """Schema names that two different classes share, with the classes.

    OpenAPI keeps one schema per name, so the second class silently documents the first's
    operations (``/dosing/calculate`` was once documented with the PK endpoint's ``DoseIn``).
    """
    seen: dict[str, set[str]] = {}
    for model in api_models(of or api):
        where = f"{model.__module__}.{model.__qualname__}"
        seen.setdefault(model.__name__, set()).add(where)
    return {name: sorted(classes) for name, classes in seen.items() if len(classes) > 1}


def api_models(of: NinjaAPI) -> set[type[BaseModel]]:
    """Every schema class the API's operations read or answer, nested ones included."""
    found: set[type[BaseModel]] = set()
    pending: list = []
    for bound in of._get_bound_routers():
        for path_view in bound.path_operations.values():
            for operation in path_view.operations:
                pending.extend(operation.models)
                pending.extend(operation.response_models.values())
    while pending:
        item = pending.pop()
        if isinstance(item, type) and issubclass(item, BaseModel):
            if item in found:
                continue
            if not item.__module__.startswith("ninja"):  # ninja's own wrappers are not named
                found.add(item)
            pending.extend(field.annotation for field in item.model_fields.values())
        else:
            pending.extend(typing.get_args(item))
    return found


@api.exception_handler(Exception)
def crashed(request, exc):
    logger.error("Unhandled error on %s %s", request.method, request.path, exc_info=exc)
    return api.create_response(
        request, error_body("Something went wrong on our side; it has been logged."), status=500
    )


@api.exception_handler(ValidationError)
def record_invalid(request, exc: ValidationError):
    if hasattr(exc, "error_dict"):
        errors = [
            {"field": field if field != "__all__" else "", "message": message}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    else:
        errors = [{"field": "", "message": message} for message in exc.messages]
    summary = "; ".join(f"{e['field'] or 'record'}: {e['message']}" for e in errors)
    return api.create_response(request, error_body(summary, errors), status=422)


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, error_body("Not found."), status=404)


@api.exception_handler(PermissionDenied)
def forbidden(request, exc):
    message = str(exc) or "Not allowed."
    if permission := getattr(exc, "permission", None):
        message = f"{message} (permission: {permission})"  # the code, for API clients
    return api.create_response(request, error_body(message), status=403)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    return api.create_response(
        request, error_body("Sign in or send a valid bearer token."), status=401
    )


def mount() -> None:
    """Each app's router under /api/v1/ (apps never import this module: it composes them)."""
    api.add_router("/patients", patients_router)
    api.add_router("", intake_router)  # issue #12: consultation requests (public POST, triage)
    api.add_router("", intake_portal_router)  # issue #12: consent and intake questionnaire
    api.add_router("/patients", patient_scheduling_router)
    api.add_router("/appointments", scheduling_router)
    # Issue #3: computation endpoints and patient-scoped screenings and plans (full paths).
    api.add_router("", screening_router)
    api.add_router("", protocols_router)
    api.add_router("", plans_router)
    api.add_router("/pk", pharmacokinetics_router)  # issue #7: predicted concentrations
    # Issue #6: instrument scoring, change from baseline, patient responses (full paths).
    api.add_router("", outcomes_router)
    api.add_router("", charting_router)  # issue #5: monitor vitals, evaluate-vitals
    api.add_router("/inventory", inventory_router)  # issue #5: controlled-substance log
    api.add_router("", billing_router)  # issue #13: coverage, prior authorization, charges


mount()
