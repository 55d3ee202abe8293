"""FHIR R4 at /fhir/R4/: the CapabilityStatement, read and search, as ``application/fhir+json``.

Authentication is the API's: a bearer token (``accounts.tokens.BearerToken``) or a signed-in
session that has passed its second factor. Object-level access is the record's: a patient
sees only their own resources, and another patient's resource answers 404, exactly like a
missing one; a staff role lacking the type's permission gets 403. Every read and search is
audited with the patients it returned. Errors are OperationOutcome resources.
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import urlencode

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone

from ketaclinic.accounts import mfa
from ketaclinic.accounts.permissions import can
from ketaclinic.accounts.roles import Role
from ketaclinic.accounts.tokens import BearerToken
from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome

from . import capability
from . import search as fhir_search
from .registry import ResourceType, Source, get

FHIR_JSON = "application/fhir+json"


class FhirError(Exception):
    def __init__(self, status: int, code: str, text: str, expression: str = ""):
        super().__init__(text)
        self.status, self.code, self.text, self.expression = status, code, text, expression


def respond(body: dict, status: int = 200) -> HttpResponse:
    return HttpResponse(
        json.dumps(body, cls=DjangoJSONEncoder, allow_nan=False),
        status=status,
        content_type=f"{FHIR_JSON}; charset=utf-8",
    )


def operation_outcome(status: int, code: str, text: str, expression: str = "") -> HttpResponse:
    issue = {"severity": "error", "code": code, "diagnostics": text, "details": {"text": text}}
    if expression:
        issue["expression"] = [expression]
    return respond({"resourceType": "OperationOutcome", "issue": [issue]}, status=status)


def fhir_view(view=None, *, public: bool = False):
    """GET only; errors become OperationOutcome; the caller is authenticated first
    (``public``: the CapabilityStatement, which clients read before they authenticate)."""
    if view is None:
        return lambda function: fhir_view(function, public=public)

    def wrapped(request, *args, **kwargs):
        try:
            if request.method not in ("GET", "HEAD"):
                raise FhirError(405, "not-supported", f"{request.method} is not supported here.")
            if not public:
                authenticate(request)
            return view(request, *args, **kwargs)
        except FhirError as problem:
            return operation_outcome(problem.status, problem.code, problem.text, problem.expression)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def authenticate(request) -> None:
    if request.headers.get("Authorization", "").lower().startswith("bearer "):
        # The bearer token alone decides, as on /api/v1/.
        if BearerToken()(request) is None:
            raise FhirError(401, "login", "The bearer token is not valid.")
        return
    user = request.user
    if not user.is_authenticated:
        raise FhirError(401, "login", "Sign in or send a valid bearer token.")
    if mfa.must_use_second_factor(request):
        raise FhirError(401, "login", "This session has not passed its second factor yet.")


def supported(type_name: str) -> ResourceType:
    resource_type = get(type_name)
    if resource_type is None:
        raise FhirError(404, "not-supported", f"Resource type '{type_name}' is not supported.")
    return resource_type


def require_permission(request, resource_type: ResourceType, patient_id: int | None) -> None:
    """403 for a role the matrix does not give the type's permission (audited)."""
    if can(request.user, resource_type.permission):
        return
    trail.record(
        action="access.refused",
        request=request,
        patient_id=patient_id,
        outcome=Outcome.REFUSED,
        detail={"permission": resource_type.permission, "fhir_type": resource_type.name},
    )
    raise FhirError(
        403,
        "forbidden",
        f"Your role ({request.user.role}) may not read {resource_type.name} resources.",
    )


def not_theirs(request, patient_id: int | None, what: str) -> FhirError:
    """404 for what the caller may not see, exactly as for what does not exist (audited)."""
    trail.record(
        action="access.refused",
        request=request,
        patient_id=patient_id,
        outcome=Outcome.REFUSED,
        detail={"fhir": what, "reason": "not found or not this caller's"},
    )
    return FhirError(404, "not-found", f"{what} is not known.")


def own_patient_ids(user) -> list[int] | None:
    """The patients a caller may see: a patient only themself; staff everyone (None)."""
    if user.role != Role.PATIENT:
        return None
    record = getattr(user, "patient_record", None)
    return [record.pk] if record is not None else []


def visible(source: Source, resource_type: ResourceType, qs: QuerySet, user) -> QuerySet:
    patient_ids = own_patient_ids(user)
    if patient_ids is None:
        return qs
    if source.patient_field is None:
        return qs  # shared definitions (Questionnaire) the role may read at all
    return qs.filter(**{f"{source.patient_field}__in": patient_ids})


# --- metadata -----------------------------------------------------------------------------


@fhir_view(public=True)
def metadata(request):
    """The CapabilityStatement, generated from the registry: exactly what is served."""
    return respond(capability.statement(base_url(request), timezone.now().date()))


def base_url(request) -> str:
    return request.build_absolute_uri("/fhir/R4/")


# --- read ---------------------------------------------------------------------------------


@fhir_view
def read(request, resource_type: str, resource_id: str):
    kind = supported(resource_type)
    what = f"{resource_type}/{resource_id}"
    found = kind.source_for(resource_id)
    lookup = found[0].find(found[1]) if found else None
    if lookup is None:
        raise FhirError(404, "not-found", f"{what} is not known.")
    source = found[0]
    rows = source.queryset().filter(lookup)
    owner = owner_of(source, rows)
    own = own_patient_ids(request.user)
    if own is not None and source.patient_field and owner not in own:
        raise not_theirs(request, owner, what)
    require_permission(request, kind, owner)
    obj = rows.first()
    if obj is None:
        raise not_theirs(request, None, what)
    resource = source.to_fhir(obj)
    patient_ids = fhir_search.patients_of([resource])
    trail.record(
        action="fhir.read",
        request=request,
        patient_id=patient_ids[0] if len(patient_ids) == 1 else None,
        detail={"resource": f"{resource_type}/{resource['id']}", "patient_ids": patient_ids},
    )
    return respond(resource)


def owner_of(source: Source, rows: QuerySet) -> int | None:
    """The patient a row belongs to (for the access check and the audit row), if any."""
    if source.patient_field is None:
        return None
    return rows.values_list(source.patient_field, flat=True).first()


# --- search -------------------------------------------------------------------------------


@fhir_view
def search(request, resource_type: str):
    kind = supported(resource_type)
    try:
        query = fhir_search.parse(request.GET, kind)
    except fhir_search.BadParameter as problem:
        raise FhirError(problem.status, problem.code, str(problem), problem.name) from None
    asked = sorted({patient for alternatives in query.patients for patient in alternatives})
    refuse_other_patients(request, asked)
    require_permission(request, kind, asked[0] if len(asked) == 1 else None)
    page, total = fhir_search.page(
        kind, query, restrict=lambda source, qs: visible(source, kind, qs, request.user)
    )
    patient_ids = fhir_search.patients_of(page)
    trail.record(
        action="fhir.search",
        request=request,
        patient_id=patient_ids[0] if len(patient_ids) == 1 else None,
        detail={
            "type": resource_type,
            "query": request.GET.urlencode(),
            "count": len(page),
            "patient_ids": patient_ids,
        },
    )
    return respond(bundle(request, resource_type, query, page, total))


def refuse_other_patients(request, asked: list[int]) -> None:
    """A patient searching by another patient's id gets 404, as on every other URL."""
    own = own_patient_ids(request.user)
    if own is None:
        return
    others = [patient for patient in asked if patient not in own]
    if others:
        raise not_theirs(request, others[0], f"Patient/{others[0]}")


def bundle(request, type_name: str, query, page: list[dict], total: int) -> dict:
    base = base_url(request)
    links = [{"relation": "self", "url": page_url(base, type_name, request, query.offset)}]
    if query.offset + query.count < total:
        links.append(
            {
                "relation": "next",
                "url": page_url(base, type_name, request, query.offset + query.count),
            }
        )
    if query.offset > 0:
        links.append(
            {
                "relation": "previous",
                "url": page_url(base, type_name, request, max(0, query.offset - query.count)),
            }
        )
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": timezone.now().astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "total": total,
        "link": links,
        "entry": [
            {
                "fullUrl": f"{base}{resource['resourceType']}/{resource['id']}",
                "resource": resource,
                "search": {"mode": "match"},
            }
            for resource in page
        ],
    }


def page_url(base: str, type_name: str, request, offset: int) -> str:
    params = [(k, v) for k in request.GET for v in request.GET.getlist(k) if k != "_offset"]
    if offset:
        params.append(("_offset", str(offset)))
    return f"{base}{type_name}" + (f"?{urlencode(params)}" if params else "")
