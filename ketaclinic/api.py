"""The JSON API at /api/v1/: authentication, error shape, and each app's router.

Errors always read ``{"message": "...", "errors": [{"field": "...", "message": "..."}]}``:
422 for validation (the field at fault named), 409 for conflicts, 404 for what the caller
may not see, 401/403 for authentication and role.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaValidationError
from ninja.security import HttpBearer, django_auth

from ketaclinic.accounts.models import ApiToken, hash_token
from ketaclinic.accounts.permissions import STAFF
from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.web.docs import staff_only

# Only refresh a token's last-used time this often, so reads do not all write.
LAST_USED_RESOLUTION_S = 60
LOCATION_WORDS = {"body", "query", "path", "payload", "header", "cookie", "form"}


class BearerToken(HttpBearer):
    def authenticate(self, request, token: str):
        found = (
            ApiToken.objects.active()
            .select_related("user")
            .filter(key_hash=hash_token(token))
            .first()
        )
        if found is None:
            trail.record(action="auth.token_refused", request=request, outcome=Outcome.REFUSED)
            return None
        now = timezone.now()
        if (
            not found.last_used_at
            or (now - found.last_used_at).total_seconds() > LAST_USED_RESOLUTION_S
        ):
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        request.user = found.user
        return found.user


api = NinjaAPI(
    title="ketaclinic API",
    version="1",
    description="Runs a ketamine-therapy clinic. Authenticate with a bearer token "
    "(`manage.py token_create USERNAME`) or a signed-in session with CSRF.",
    auth=[BearerToken(), django_auth],
    urls_namespace="api",
    # The Swagger page and the schema: signed-in staff only (Swagger UI from ninja's static).
    docs_decorator=staff_only(lambda user: user.role in STAFF),
)


def error_body(message: str, errors: list[dict] | None = None) -> dict:
    return {"message": message, "errors": errors or []}


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
    return api.create_response(request, error_body(str(exc)), status=exc.status_code)


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
    return api.create_response(request, error_body(str(exc) or "Not allowed."), status=403)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    return api.create_response(
        request, error_body("Sign in or send a valid bearer token."), status=401
    )


def mount() -> None:
    from ketaclinic.charting.api import router as charting
    from ketaclinic.patients.api import router as patients
    from ketaclinic.plans.api import router as plans
    from ketaclinic.protocols.api import router as protocols
    from ketaclinic.scheduling.api import patients_router as patient_scheduling
    from ketaclinic.scheduling.api import router as scheduling
    from ketaclinic.screening.api import router as screening

    api.add_router("/patients", patients)
    api.add_router("/patients", patient_scheduling)
    api.add_router("/appointments", scheduling)
    # Issue #3: computation endpoints and patient-scoped screenings and plans (full paths).
    api.add_router("", screening)
    api.add_router("", protocols)
    api.add_router("", plans)
    from ketaclinic.plans.pk_api import router as pharmacokinetics

    api.add_router("/pk", pharmacokinetics)  # issue #7: predicted concentrations
    # Issue #6: instrument scoring, change from baseline, patient responses (full paths).
    from ketaclinic.outcomes.api import router as outcomes

    api.add_router("", outcomes)
    api.add_router("", charting)  # issue #5: monitor vitals, evaluate-vitals
    from ketaclinic.inventory.api import router as inventory

    api.add_router("/inventory", inventory)  # issue #5: controlled-substance log


mount()
