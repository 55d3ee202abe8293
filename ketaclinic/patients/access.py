"""Permission-checked fetches. Every view and API handler gets patients through here.

Another patient's record answers 404, never 403, so a patient cannot learn it exists.
A staff member whose role lacks a permission gets 403 (they know the record exists).
Every refusal and every read is written to the audit trail.
"""

from __future__ import annotations

from django.http import Http404

from ketaclinic.accounts.access import Refusal, refusal_reason
from ketaclinic.accounts.permissions import can
from ketaclinic.accounts.roles import Role
from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome

from .models import Patient


def may_see(user, patient: Patient) -> bool:
    if not can(user, "patient.view"):
        return False
    if user.role == Role.PATIENT:
        return patient.user_id == user.pk
    return True


def access_patient(
    request, patient_id: int, permission: str = "patient.view", *, section: str = ""
):
    """The patient ``request.user`` may act on with ``permission``, or 404/403.

    Reads (``section`` given) are audited here; writes are audited by their service.
    """
    user = request.user
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None or not may_see(user, patient):
        refuse(request, patient_id, permission, "not found or not this user's patient")
        raise Http404("No such patient.")
    if not can(user, permission):
        refuse(request, patient_id, permission, refusal_reason(user, permission))
        raise Refusal(user, permission)
    if section:
        trail.record(
            action="patient.view", request=request, patient=patient, detail={"section": section}
        )
    return patient


def access_patient_or_portal(
    request, patient_id: int, permission: str, *, section: str = ""
) -> Patient | None:
    """For a staff page: the patient as :func:`access_patient` gives it, or None for a
    patient user, whom the page sends to the portal (where patients read their record).

    A patient user asking for another patient's id gets 404, exactly as for a missing one.
    """
    if request.user.role == Role.PATIENT:
        access_patient(request, patient_id)
        return None
    return access_patient(request, patient_id, permission, section=section)


def access_entry(request, patient: Patient, model, entry_id: int):
    """A clinical entry of ``patient`` (already access-checked), or 404."""
    entry = model.objects.filter(pk=entry_id, patient=patient).first()
    if entry is None:
        refuse(request, patient.pk, f"{model.__name__}.view", "no such entry for this patient")
        raise Http404("No such entry.")
    return entry


def refuse(request, patient_id, permission: str, why: str) -> None:
    trail.record(
        action="access.refused",
        request=request,
        patient_id=patient_id if isinstance(patient_id, int) else None,
        outcome=Outcome.REFUSED,
        detail={"permission": permission, "reason": why},
    )
