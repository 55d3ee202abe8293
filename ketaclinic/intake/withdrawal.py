"""A patient withdraws a signed consent on the portal, after a confirmation step.

The signature row stays (what was signed, when, and the text's hash are history); it gains
``withdrawn_at``, so ``ConsentSignature.objects.valid()`` (and with it the pre-session
checklist's "consent on file") no longer finds it. Signing the same version again later is
allowed: the one-signature-per-version rule counts only signatures not withdrawn. Staff see
"withdrawn on <date>" on the chart's Intake & consent tab.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.patients.models import Patient

from .consent_models import ConsentSignature
from .portal_views import own_patient


class AlreadyWithdrawn(Exception):
    """The consent was withdrawn before (HTTP 409)."""

    def __init__(self, signature: ConsentSignature):
        self.signature = signature
        super().__init__(f"You already withdrew this consent on {signature.withdrawn_at:%d %B %Y}.")


def consent_withdraw(*, request, patient: Patient, signature_id: int) -> ConsentSignature:
    """Mark the patient's signature withdrawn now; audited. 404 for another's signature."""
    with transaction.atomic():
        signature = (
            ConsentSignature.objects.select_for_update()
            .filter(pk=signature_id, patient=patient)
            .first()
        )
        if signature is None:
            raise Http404("No such consent.")
        if signature.withdrawn_at is not None:
            raise AlreadyWithdrawn(signature)
        signature.withdrawn_at = timezone.now()
        signature.save(update_fields=["withdrawn_at"])
        trail.record(
            action="consent.withdraw",
            request=request,
            patient=patient,
            target=signature,
            detail={
                "document": signature.document_code,
                "version": signature.document_version,
            },
        )
    return signature


def signature_history(patient: Patient) -> list[ConsentSignature]:
    """Every signature, withdrawn ones included (for staff: what was signed and undone)."""
    return list(ConsentSignature.objects.filter(patient=patient).select_related("signed_by"))


@login_required
@require_http_methods(["GET", "POST"])
def withdraw(request, signature_id: int):
    """GET: what withdrawing means, and a confirmation; POST with ``confirm=yes``: withdraw."""
    patient = own_patient(
        request, "consent.sign", section="consent withdrawal" if request.method == "GET" else ""
    )
    signature = ConsentSignature.objects.filter(pk=signature_id, patient=patient).first()
    if signature is None:
        raise Http404
    error, status = "", 200
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            error, status = "Tick the box to confirm that you want to withdraw this consent.", 422
            trail.record(
                action="consent.withdraw",
                request=request,
                patient=patient,
                target=signature,
                outcome=Outcome.INVALID,
                detail={"errors": {"confirm": error}},
            )
        else:
            try:
                consent_withdraw(request=request, patient=patient, signature_id=signature.pk)
            except AlreadyWithdrawn as conflict:
                error, status = str(conflict), 409
            else:
                messages.success(
                    request,
                    f"Withdrawn: {signature.document_title}. The clinic will talk with you "
                    "before any further treatment.",
                )
                return redirect("portal_intake:consents")
    return render(
        request,
        "intake/portal/consent_withdraw.html",
        {"signature": signature, "error": error},
        status=status,
    )
