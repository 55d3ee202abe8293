"""Under ``/api/`` every error is JSON, whoever answered it.

Most API errors come from the API's own exception handlers (``ketaclinic/api.py``). A few
are answered before or around it and would otherwise be Django's HTML pages: an unknown
path (404), a method the path does not take (405, from django-ninja, with an empty body), a
request Django refuses before any view (400, 413), and a crash outside the API's handlers
(500). This middleware, outermost, gives those the API's error shape
``{"message", "errors": []}`` and keeps their status and headers (``Allow`` on a 405).
Imports no app.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import Schema


class ApiFieldError(Schema):
    field: str
    message: str


class ApiError(Schema):
    """Every API error: 422 names each field at fault; other errors may list none."""

    message: str
    errors: list[ApiFieldError]


API_PREFIX = "/api/"
JSON = "application/json"
logger = logging.getLogger("ketaclinic.api")

MESSAGES = {
    400: "The request could not be read.",
    401: "Sign in or send a valid bearer token.",
    403: "Not allowed.",
    404: "Not found.",
    405: "This path does not take that method.",
    413: "The request body is too large.",
    500: "Something went wrong on our side; it has been logged.",
}
ANSWERED = (Http404, PermissionDenied, SuspiciousOperation)
KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")


def error_body(message: str, errors: list[dict] | None = None) -> dict:
    """The API's error shape: a message, and the fields at fault (none for most statuses)."""
    return {"message": message, "errors": errors or []}


def error_message(response: HttpResponse) -> str:
    message = MESSAGES.get(response.status_code) or "The request failed."
    if response.status_code == 405 and response.get("Allow"):
        message = f"{message} Allowed: {response['Allow']}."
    return message


def as_json(response: HttpResponse) -> JsonResponse:
    replaced = JsonResponse(error_body(error_message(response)), status=response.status_code)
    for header in KEPT_HEADERS:
        if header in response:
            replaced[header] = response[header]
    return replaced


class ApiErrorsAreJson:
    """Middleware: an error answer under /api/ that is not JSON becomes the API's shape."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith(API_PREFIX)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith(JSON)
        ):
            return as_json(response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not request.path.startswith(API_PREFIX) or isinstance(exception, ANSWERED):
            return None  # Django answers these 404, 403 and 400; __call__ makes them JSON
        # Django would log this too, but a response returned here stops it, so log it.
        logger.error("Unhandled error on %s %s", request.method, request.path, exc_info=True)
        return JsonResponse(error_body(MESSAGES[500]), status=500)
