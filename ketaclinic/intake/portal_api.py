"""Intake and consent over the API (issue #12): consent documents, the patient's signatures
and intake answers, and the items awaiting a clinician's confirmation.

Mounted beside the consultation-request router (``api.mount``). A patient signs and answers
only for their own record; staff read. Errors keep the API's shape: 404 for what the caller
may not see, 409 when the document changed or is signed already, 422 naming the field.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from ninja import Field, Router, Schema
from ninja import Status as Reply
from pydantic import ConfigDict

from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.patients.access import access_patient
from ketaclinic.web.json_errors import ApiError

from . import consent, consent_services, questionnaire_services
from .models import IntakeItem, ItemStatus

router = Router(tags=["intake"])


class ConsentDocumentOut(Schema):
    code: str
    title: str
    version: int
    routes: list[str]
    sha256: str = Field(description="SHA-256 of `text` (UTF-8); a signature quotes it.")
    text: str
    sources: list[str]
    reviewed_by: str
    reviewed_on: dt.date | None


class ConsentSignatureOut(Schema):
    id: int
    document_code: str
    document_version: int
    document_title: str
    text_sha256: str
    typed_name: str
    signed_at: dt.datetime
    via: str
    current: bool = Field(description="Whether it is for the document's current version.")

    @staticmethod
    def resolve_current(obj) -> bool:
        document = consent.documents().get(obj.document_code)
        return document is not None and (obj.document_version, obj.text_sha256) == (
            document.version,
            document.sha256,
        )


class ConsentSignIn(Schema):
    """The patient's signature on the exact text they were shown."""

    model_config = ConfigDict(extra="forbid")

    document_code: str = Field(max_length=40)
    version: int = Field(ge=1, le=1_000_000)
    sha256: str = Field(max_length=64)
    typed_name: str = Field(max_length=250)


class IntakeIn(Schema):
    """The intake answers (see the portal form); each part is checked and named on error."""

    model_config = ConfigDict(extra="forbid")

    answers: dict[str, Any]


class IntakeItemOut(Schema):
    id: int
    kind: str
    label: str
    finding: str
    status: str
    origin: str
    reviewed_at: dt.datetime | None


class IntakeReceived(Schema):
    submission_id: int
    items: int


def _document(request, patient, code: str) -> consent.ConsentDocument:
    document = consent.documents().get(code)
    if document is None:
        trail.record(
            action="consent.sign",
            request=request,
            patient=patient,
            outcome=Outcome.INVALID,
            detail={"errors": {"document_code": "unknown"}},
        )
        raise ValidationError({"document_code": "No consent document has this code."})
    return document


@router.get(
    "/consent-documents",
    response=list[ConsentDocumentOut],
    summary="The consent documents in force, with their version and text fingerprint",
)
def list_consent_documents(request):
    return [
        {
            "code": d.code,
            "title": d.title,
            "version": d.version,
            "routes": list(d.routes),
            "sha256": d.sha256,
            "text": d.text,
            "sources": list(d.sources),
            "reviewed_by": d.reviewed_by,
            "reviewed_on": d.reviewed_on,
        }
        for d in consent.documents().values()
    ]


@router.get(
    "/patients/{int:patient_id}/consents",
    response=list[ConsentSignatureOut],
    summary="The patient's consent signatures, newest first",
)
def list_consents(request, patient_id: int):
    patient = access_patient(request, patient_id, "patient.view", section="api.consents")
    return consent_services.signatures(patient)


@router.post(
    "/patients/{int:patient_id}/consents",
    response={201: ConsentSignatureOut, 409: ApiError},
    summary="Sign a consent document (the patient, for their own record)",
    description="`version` and `sha256` must be the document's current ones (409 when it "
    "changed); `typed_name` must be the full name on the record (422).",
)
def sign_consent(request, patient_id: int, payload: ConsentSignIn):
    patient = access_patient(request, patient_id, "consent.sign")
    document = _document(request, patient, payload.document_code)
    try:
        signature = consent_services.consent_sign(
            request=request,
            patient=patient,
            document=document,
            typed_name=payload.typed_name,
            shown_version=payload.version,
            shown_sha256=payload.sha256,
        )
    except (consent_services.ConsentChanged, consent_services.AlreadySigned) as conflict:
        return Reply(409, {"message": str(conflict), "errors": []})
    return Reply(201, signature)


@router.post(
    "/patients/{int:patient_id}/intake",
    response={201: IntakeReceived},
    summary="Send the intake questionnaire (the patient, for their own record)",
    description="Answers replace the pending ones of an earlier intake; nothing becomes "
    "part of the record until a clinician confirms it.",
)
def submit_intake(request, patient_id: int, payload: IntakeIn):
    patient = access_patient(request, patient_id, "intake.answer")
    submission = questionnaire_services.submission_create(
        request=request, patient=patient, answers=payload.answers
    )
    return Reply(201, {"submission_id": submission.pk, "items": submission.items.count()})


@router.get(
    "/patients/{int:patient_id}/intake-items",
    response=list[IntakeItemOut],
    summary="What the patient reported at intake, pending first",
)
def list_intake_items(request, patient_id: int):
    patient = access_patient(request, patient_id, "intake.review", section="api.intake")
    rows = (
        IntakeItem.objects.filter(patient=patient)
        .exclude(status=ItemStatus.SUPERSEDED)
        .select_related("reviewed_by")
        .order_by("id")
    )
    return sorted(rows, key=lambda item: item.status != ItemStatus.PENDING)
