"""FHIR R4 views (skeleton; filled in by issue #14)."""

from __future__ import annotations

from django.http import JsonResponse

FHIR_JSON = "application/fhir+json"


def outcome(status: int, code: str, text: str) -> JsonResponse:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": text}],
    }
    return JsonResponse(body, status=status, content_type=FHIR_JSON)


def metadata(request):
    return outcome(404, "not-supported", "Not yet available.")


def search(request, resource_type: str):
    return outcome(404, "not-supported", f"{resource_type} is not supported.")


def read(request, resource_type: str, resource_id: str):
    return outcome(404, "not-supported", f"{resource_type} is not supported.")
