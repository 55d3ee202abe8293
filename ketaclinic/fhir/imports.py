"""``POST /fhir/R4/``: a transaction or collection Bundle from another EHR, staged for review.

The bundle must hold exactly one Patient and otherwise only Condition, MedicationStatement,
AllergyIntolerance and Observation. Each resource is validated with the fhir.resources R4B
models; the first problem answers 422 with an OperationOutcome whose expression names the
entry and path (``Bundle.entry[3].resource.code``). A valid bundle is stored as a
``StagedImport`` with one ``StagedItem`` per resource (origin: sender, bundle id, received
at) and answers 201. The patient is matched by the duplicate check (name and date of
birth); matches are offered on the import, never merged. Nothing reaches the record until
a clinician accepts an item. Clinicians only (``fhir.import``); audited.
"""

from __future__ import annotations

import datetime as dt
import json

from django.db import transaction
from django.views.decorators.csrf import csrf_exempt
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from ketaclinic.accounts.permissions import can
from ketaclinic.audit import trail
from ketaclinic.patients import duplicates
from ketaclinic.patients.models import Patient

from .bulk import refuse
from .staging_models import StagedImport, StagedItem
from .views import FhirError, authenticate, operation_outcome, respond

IMPORTABLE = frozenset(
    {"Patient", "Condition", "MedicationStatement", "AllergyIntolerance", "Observation"}
)
BUNDLE_TYPES = frozenset({"transaction", "collection"})
MAX_BODY = 5 * 1024 * 1024
MAX_ENTRIES = 2000


def invalid(text: str, expression: str) -> FhirError:
    return FhirError(422, "invalid", text, expression)


def parse_body(request) -> dict:
    if len(request.body) > MAX_BODY:
        raise FhirError(413, "too-costly", "The bundle is larger than 5 MB.")
    try:
        body = json.loads(request.body.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise FhirError(400, "structure", "The body is not valid JSON.") from None
    if b"\x00" in request.body or b"\\u0000" in request.body:
        # PostgreSQL's jsonb cannot hold NUL; no clinical text needs one.
        raise FhirError(400, "structure", "The body holds a NUL character.")
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise invalid("The body must be a Bundle resource.", "Bundle")
    return body


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def path_of(prefix: str, loc: tuple) -> str:
    parts = [prefix]
    for step in loc:
        if isinstance(step, int):
            parts[-1] += f"[{step}]"
        else:
            parts.append(str(step))
    return ".".join(parts)


def check_resource(index: int, resource) -> dict:
    where = f"Bundle.entry[{index}].resource"
    if not isinstance(resource, dict):
        raise invalid("Each entry must hold a resource.", where)
    kind = resource.get("resourceType")
    if kind not in IMPORTABLE:
        raise invalid(
            f"{str(kind)[:40]!r} cannot be imported (accepted: {', '.join(sorted(IMPORTABLE))}).",
            f"{where}.resourceType",
        )
    try:
        get_fhir_model_class(kind).model_validate(resource)
    except ValidationError as problem:
        first = problem.errors()[0]
        raise invalid(
            f"{kind}: {first['msg']}", path_of(where, tuple(first.get("loc", ())))
        ) from None
    return resource


def check_bundle(body: dict) -> list[dict]:
    if body.get("type") not in BUNDLE_TYPES:
        raise invalid("The Bundle type must be transaction or collection.", "Bundle.type")
    entries = body.get("entry")
    if not isinstance(entries, list) or not entries:
        raise invalid("The Bundle holds no entries.", "Bundle.entry")
    if len(entries) > MAX_ENTRIES:
        raise invalid(f"A bundle may hold at most {MAX_ENTRIES} entries.", "Bundle.entry")
    resources = [
        check_resource(i, e.get("resource") if isinstance(e, dict) else None)
        for i, e in enumerate(entries)
    ]
    patients = [i for i, r in enumerate(resources) if r["resourceType"] == "Patient"]
    if len(patients) != 1:
        raise invalid("The bundle must hold exactly one Patient.", "Bundle.entry")
    return resources


def identity_of(patient: dict) -> duplicates.Identity:
    name = (patient.get("name") or [{}])[0]
    born = patient.get("birthDate")
    return duplicates.Identity(
        given_name=" ".join(name.get("given") or []),
        family_name=name.get("family") or "",
        date_of_birth=dt.date.fromisoformat(born) if born and len(born) == 10 else None,
    )


def candidates_for(patient: dict) -> list[int]:
    identity = identity_of(patient)
    if identity.date_of_birth is None:
        return []
    existing = [
        (p.pk, duplicates.Identity(p.given_name, p.family_name, p.date_of_birth))
        for p in Patient.objects.filter(date_of_birth=identity.date_of_birth)
    ]
    return duplicates.matching(identity, existing)


@csrf_exempt
def receive(request):
    """POST a Bundle: validated, staged, the patient matched; 201 with the staged import."""
    if request.method != "POST":
        return operation_outcome(405, "not-supported", f"{request.method} is not supported here.")
    try:
        if not request.headers.get("Authorization", "").lower().startswith("bearer "):
            raise FhirError(401, "login", "Importing needs a bearer token.")
        authenticate(request)
        if not can(request.user, "fhir.import"):
            refuse(request, "fhir.import", "import records")
        body = parse_body(request)
        resources = check_bundle(body)
    except FhirError as problem:
        return operation_outcome(problem.status, problem.code, problem.text, problem.expression)
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    with transaction.atomic():
        staged = StagedImport.objects.create(
            sender=str((body.get("meta") or {}).get("source") or request.user.username)[:200],
            bundle_id=str(body.get("id") or "")[:64],
            bundle_type=body["type"],
            received_by=request.user,
            patient_resource=patient,
            candidate_ids=candidates_for(patient),
        )
        StagedItem.objects.bulk_create(
            StagedItem(
                staged_import=staged, entry_index=i, resource_type=r["resourceType"], resource=r
            )
            for i, r in enumerate(resources)
            if r["resourceType"] != "Patient"
        )
        trail.record(
            action="fhir.import.staged",
            request=request,
            detail={
                "import": staged.pk,
                "sender": staged.sender,
                "bundle": staged.bundle_id,
                "items": len(resources) - 1,
                "candidates": staged.candidate_ids,
            },
        )
    return respond(
        {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "information",
                    "code": "informational",
                    "diagnostics": f"Staged {len(resources) - 1} items for review (import "
                    f"{staged.pk}); {len(staged.candidate_ids)} matching patient(s) offered.",
                }
            ],
        },
        status=201,
    )
