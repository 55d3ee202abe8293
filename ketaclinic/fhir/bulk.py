"""FHIR Bulk Data Access (v2) export at /fhir/R4/: kick-off, status, manifest, files; Groups.

- ``GET $export`` (system: clinic admin), ``GET Patient/$export`` and
  ``GET Group/{id}/$export`` (prescriber or clinic admin; ``fhir.export``). Patients are
  refused with 403: their own record is served by read/search and the portal.
- ``Prefer: respond-async`` is required (400 otherwise); ``_outputFormat`` must be NDJSON;
  ``_type`` names supported types (an unknown one is a 400); ``_since`` is a FHIR instant.
- The kick-off answers 202 with ``Content-Location`` of the status URL; a worker
  (``manage.py fhir_export_worker``) does the work. Status: 202 + ``X-Progress`` while
  queued or running, 200 + manifest when done; DELETE cancels (202), after which the URL is
  404. Status and files answer only the requester (others 404) and expire after 24 hours.
- Every kick-off, status read, cancel and download is audited.
"""

from __future__ import annotations

import datetime as dt

from django.http import FileResponse, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt

from ketaclinic.accounts.permissions import can
from ketaclinic.accounts.roles import Role
from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome

from . import bulk_groups, jobs
from .bulk_models import ExportJob, ExportLevel, ExportStatus
from .registry import registry
from .views import FhirError, authenticate, base_url, operation_outcome, respond

NDJSON = "application/fhir+ndjson"
OUTPUT_FORMATS = frozenset({NDJSON, "application/ndjson", "ndjson"})
KNOWN_PARAMS = frozenset({"_outputFormat", "_type", "_since"})
# Types without a patient: part of a system-level export only.
SHARED_TYPES = frozenset({"Practitioner", "Questionnaire"})


def bulk_view(*methods: str):
    """Authenticated; errors become OperationOutcome; session callers pass the CSRF check
    on DELETE (bearer-token callers send no cookie, so nothing to forge)."""

    def decorate(view):
        @csrf_exempt
        def wrapped(request, *args, **kwargs):
            if request.method not in methods:
                return operation_outcome(
                    405, "not-supported", f"{request.method} is not supported here."
                )
            try:
                bearer = request.headers.get("Authorization", "").lower().startswith("bearer ")
                if request.method not in ("GET", "HEAD") and not bearer:
                    reason = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
                    if reason is not None:
                        raise FhirError(403, "forbidden", "The CSRF check failed.")
                authenticate(request)
                return view(request, *args, **kwargs)
            except FhirError as problem:
                return operation_outcome(
                    problem.status, problem.code, problem.text, problem.expression
                )

        wrapped.__name__ = view.__name__
        wrapped.__doc__ = view.__doc__
        return wrapped

    return decorate


def refuse(request, permission: str, what: str) -> None:
    trail.record(
        action="access.refused",
        request=request,
        outcome=Outcome.REFUSED,
        detail={"permission": permission, "fhir": what},
    )
    raise FhirError(403, "forbidden", f"Your role ({request.user.role}) may not {what}.")


# --- kick-off -----------------------------------------------------------------------------


def exportable_types(user, level: str) -> list[str]:
    names = []
    for name in registry():
        if name == "AuditEvent" and not can(user, "audit.view"):
            continue
        if level != ExportLevel.SYSTEM and name in SHARED_TYPES | {"AuditEvent"}:
            continue
        names.append(name)
    return names


def clean_text(value: str, name: str) -> str:
    if "\x00" in value or len(value) > 2000:
        raise FhirError(400, "invalid", f"{name} holds a NUL character or is too long.", name)
    return value


def parse_since(raw: str | None) -> dt.datetime | None:
    if raw is None:
        return None
    clean_text(raw, "_since")
    try:
        moment = parse_datetime(raw.strip())
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise FhirError(
            400,
            "invalid",
            "_since must be a FHIR instant with a time zone, e.g. 2026-01-31T09:00:00Z.",
            "_since",
        )
    return moment


def parse_types(raw_values: list[str], allowed: list[str]) -> list[str]:
    if not raw_values:
        return allowed
    wanted: list[str] = []
    for raw in raw_values:
        for name in clean_text(raw, "_type").split(","):
            name = name.strip()
            if not name:
                continue
            if name not in allowed:
                raise FhirError(
                    400,
                    "not-supported",
                    f"_type {name[:80]!r} is not a type this export can include "
                    f"(supported: {', '.join(allowed)}).",
                    "_type",
                )
            if name not in wanted:
                wanted.append(name)
    if not wanted:
        raise FhirError(400, "invalid", "_type names no resource type.", "_type")
    return wanted


def kick_off(request, level: str, group_id: str = ""):
    permission = "fhir.export_system" if level == ExportLevel.SYSTEM else "fhir.export"
    if request.user.role == Role.PATIENT or not can(request.user, permission):
        refuse(request, permission, f"start a {level}-level bulk export")
    if "respond-async" not in request.headers.get("Prefer", ""):
        raise FhirError(
            400, "invalid", "Bulk export is asynchronous: send 'Prefer: respond-async'.", "Prefer"
        )
    params = request.GET
    for name in params:
        if name not in KNOWN_PARAMS:
            raise FhirError(
                400, "not-supported", f"The parameter {name[:80]!r} is not supported.", name[:80]
            )
    output_format = clean_text(params.get("_outputFormat", NDJSON), "_outputFormat")
    if output_format not in OUTPUT_FORMATS:
        raise FhirError(
            400,
            "not-supported",
            "_outputFormat must be application/fhir+ndjson (or application/ndjson, ndjson).",
            "_outputFormat",
        )
    since = parse_since(params.get("_since"))
    types = parse_types(params.getlist("_type"), exportable_types(request.user, level))
    if level == ExportLevel.GROUP and bulk_groups.find(group_id) is None:
        raise FhirError(404, "not-found", f"Group/{group_id[:80]} is not known.")
    job = ExportJob.objects.create(
        requester=request.user,
        level=level,
        group_id=group_id,
        types=types,
        since=since,
        request_url=request.build_absolute_uri(),
        transaction_time=timezone.now(),
    )
    trail.record(
        action="fhir.bulk_export.requested",
        request=request,
        detail={
            "job": str(job.id),
            "level": level,
            "group": group_id,
            "types": types,
            "since": since.isoformat() if since else None,
        },
    )
    answer = HttpResponse(status=202)
    answer["Content-Location"] = status_url(request, job)
    return answer


def status_url(request, job: ExportJob) -> str:
    return f"{base_url(request)}$export-status/{job.id}"


@bulk_view("GET")
def export_system(request):
    return kick_off(request, ExportLevel.SYSTEM)


@bulk_view("GET")
def export_patients(request):
    return kick_off(request, ExportLevel.PATIENT)


@bulk_view("GET")
def export_group(request, group_id: str):
    return kick_off(request, ExportLevel.GROUP, group_id)


# --- status, manifest, cancel ----------------------------------------------------------------


def own_job_or_404(request, job_id) -> ExportJob:
    job = ExportJob.objects.filter(pk=job_id, requester=request.user).first()
    if job is None or job.status in (ExportStatus.CANCELLED, ExportStatus.EXPIRED):
        trail.record(
            action="access.refused",
            request=request,
            outcome=Outcome.REFUSED,
            detail={"fhir": f"export {job_id}", "reason": "not found, not theirs or gone"},
        )
        raise FhirError(404, "not-found", "This export is not known (or has expired).")
    return job


def fhir_instant(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def manifest(request, job: ExportJob) -> dict:
    base = base_url(request)
    return {
        "transactionTime": fhir_instant(job.transaction_time),
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [
            {
                "type": entry["type"],
                "url": f"{base}$export-file/{job.id}/{entry['file']}",
                "count": entry["count"],
            }
            for entry in job.output
        ],
        "error": [],
    }


@bulk_view("GET", "DELETE")
def export_status(request, job_id):
    job = own_job_or_404(request, job_id)
    if request.method == "DELETE":
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.CANCELLED, output=[])
        jobs.cleanup()
        trail.record(
            action="fhir.bulk_export.cancelled", request=request, detail={"job": str(job.id)}
        )
        return HttpResponse(status=202)
    trail.record(
        action="fhir.bulk_export.status",
        request=request,
        detail={"job": str(job.id), "status": job.status},
    )
    if job.status in (ExportStatus.QUEUED, ExportStatus.RUNNING):
        answer = HttpResponse(status=202)
        answer["X-Progress"] = job.progress or "Queued"
        answer["Retry-After"] = "5"
        return answer
    if job.status == ExportStatus.FAILED:
        message = "; ".join(e["message"] for e in job.errors) or "The export failed."
        return operation_outcome(500, "exception", f"The export failed: {message}")
    answer = respond(manifest(request, job))
    answer["Content-Type"] = "application/json"
    answer["Expires"] = job.expires_at.strftime("%a, %d %b %Y %H:%M:%S GMT")
    return answer


@bulk_view("GET")
def export_file(request, job_id, file_name: str):
    job = own_job_or_404(request, job_id)
    entry = next((e for e in job.output if e["file"] == file_name), None)
    if job.status != ExportStatus.DONE or entry is None:
        raise FhirError(404, "not-found", "This export file is not known (or has expired).")
    path = jobs.job_dir(job) / entry["file"]
    if not path.is_file():
        raise FhirError(404, "not-found", "This export file is not known (or has expired).")
    trail.record(
        action="fhir.bulk_export.downloaded",
        request=request,
        detail={"job": str(job.id), "type": entry["type"], "count": entry["count"]},
    )
    return FileResponse(path.open("rb"), content_type=NDJSON)


# --- Group read and search ------------------------------------------------------------------


@bulk_view("GET")
def group_search(request):
    if not can(request.user, "fhir.export"):
        refuse(request, "fhir.export", "read Group resources")
    cohorts = bulk_groups.all_cohorts()
    trail.record(action="fhir.search", request=request, detail={"type": "Group"})
    base = base_url(request)
    return respond(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(cohorts),
            "link": [{"relation": "self", "url": f"{base}Group"}],
            "entry": [
                {
                    "fullUrl": f"{base}Group/{c.id}",
                    "resource": c.to_fhir(),
                    "search": {"mode": "match"},
                }
                for c in cohorts
            ],
        }
    )


@bulk_view("GET")
def group_read(request, group_id: str):
    if not can(request.user, "fhir.export"):
        refuse(request, "fhir.export", "read Group resources")
    cohort = bulk_groups.find(group_id)
    if cohort is None:
        raise FhirError(404, "not-found", f"Group/{group_id[:80]} is not known.")
    trail.record(action="fhir.read", request=request, detail={"resource": f"Group/{cohort.id}"})
    return respond(cohort.to_fhir())
