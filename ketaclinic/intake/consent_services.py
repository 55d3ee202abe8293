"""Signing a consent document, and what is on file for a route.

A signature is valid only for the exact text the patient was shown: the form carries the
version and SHA-256 it displayed, and a mismatch with the current document (the text changed
while the page was open) is a conflict, not a signature. The typed name must be the full name
on the record.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.patients.models import Patient

from . import consent
from .consent_models import ConsentSignature


class ConsentChanged(Exception):
    """The document changed since it was shown (HTTP 409): read the new version."""

    def __init__(self, document: consent.ConsentDocument):
        self.document = document
        super().__init__(
            f"“{document.title}” has changed (now version {document.version}); "
            "please read the new text before signing."
        )


class AlreadySigned(Exception):
    """This version is already signed (HTTP 409)."""

    def __init__(self, signature: ConsentSignature):
        self.signature = signature
        super().__init__(
            f"You already signed version {signature.document_version} on "
            f"{signature.signed_at:%d %B %Y}."
        )


def consent_sign(
    *,
    request,
    patient: Patient,
    document: consent.ConsentDocument,
    typed_name: str,
    shown_version: int | None,
    shown_sha256: str,
) -> ConsentSignature:
    """The patient signs ``document`` as shown (version and SHA-256) with their typed name.

    Raises :class:`ConsentChanged` or :class:`AlreadySigned` (409), ``ValidationError`` (422)
    when the typed name is not the full name on the record; each refusal is audited.
    """
    _check_shown_text_is_current(request, patient, document, shown_version, shown_sha256)
    _check_typed_name(request, patient, document, typed_name)
    existing = current_signature(patient, document)
    if existing is not None:
        raise AlreadySigned(existing)
    try:
        with transaction.atomic():
            signature = ConsentSignature.objects.create(
                patient=patient,
                document_code=document.code,
                document_version=document.version,
                document_title=document.title[:200],
                text_sha256=document.sha256,
                typed_name=" ".join(typed_name.split())[:250],
                signed_by=request.user,
            )
            trail.record(
                action="consent.sign",
                request=request,
                patient=patient,
                target=signature,
                detail={
                    "document": document.code,
                    "version": document.version,
                    "sha256": document.sha256,
                },
            )
    except IntegrityError:
        raise AlreadySigned(current_signature(patient, document)) from None
    return signature


def _check_shown_text_is_current(
    request,
    patient: Patient,
    document: consent.ConsentDocument,
    shown_version: int | None,
    shown_sha256: str,
) -> None:
    """A signature holds only for the text shown: a changed document is refused (audited)."""
    if shown_version == document.version and shown_sha256 == document.sha256:
        return
    trail.record(
        action="consent.sign",
        request=request,
        patient=patient,
        outcome=Outcome.REFUSED,
        detail={
            "document": document.code,
            "shown_version": shown_version,
            "current_version": document.version,
        },
    )
    raise ConsentChanged(document)


def _check_typed_name(
    request, patient: Patient, document: consent.ConsentDocument, typed_name: str
) -> None:
    """The typed name must be the full name on the record (audited when it is not)."""
    if consent.name_matches(typed_name or "", patient.given_name, patient.family_name):
        return
    trail.record(
        action="consent.sign",
        request=request,
        patient=patient,
        outcome=Outcome.INVALID,
        detail={"document": document.code, "errors": {"typed_name": "does not match"}},
    )
    raise ValidationError(
        {"typed_name": "Type your full name as the clinic has it: given name, then family name."}
    )


def current_signature(
    patient: Patient, document: consent.ConsentDocument
) -> ConsentSignature | None:
    """The patient's valid signature on the document's current version and text, if any."""
    return (
        ConsentSignature.objects.valid()
        .filter(
            patient=patient,
            document_code=document.code,
            document_version=document.version,
            text_sha256=document.sha256,
        )
        .select_related("signed_by")
        .first()
    )


@dataclass(frozen=True)
class ConsentOnFile:
    """What the record says about consent for a route: met, the words, who and when."""

    met: bool | None
    detail: str
    by: str = ""
    at: object = None


def consent_on_file(patient: Patient, route: str) -> ConsentOnFile:
    """Whether the patient signed the current version of the consent for ``route``.

    ``met`` is ``None`` when nothing current is signed: a clinician may still record a paper
    consent on the day; an older version signed is named so staff know to ask for the new one.
    """
    document = consent.document_for_route(route)
    if document is None:
        return ConsentOnFile(None, "no consent document for this route; a clinician confirms")
    # One query: every valid signature on this document, newest version first.
    signed = list(
        ConsentSignature.objects.valid()
        .filter(patient=patient, document_code=document.code)
        .order_by("-document_version", "-signed_at")
    )
    for signature in signed:
        if (signature.document_version, signature.text_sha256) == (
            document.version,
            document.sha256,
        ):
            return ConsentOnFile(
                True,
                f"signed “{document.title}” version {document.version} on the portal",
                signature.typed_name,
                signature.signed_at,
            )
    if signed:
        return ConsentOnFile(
            None,
            f"signed version {signed[0].document_version} only; version {document.version} "
            "needs a new signature",
        )
    return ConsentOnFile(None, f"“{document.title}” not signed yet")


def signatures(patient: Patient) -> list[ConsentSignature]:
    return list(ConsentSignature.objects.valid().filter(patient=patient))
