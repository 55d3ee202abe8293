"""Permission-checked fetch of a treatment session, for every page and API handler.

A session is reached through its patient (:func:`~ketaclinic.patients.access.access_patient`):
another patient's session answers 404, a role without the permission 403. A session that does
not exist answers 404 too, and that refusal is written to the audit trail like every other.
"""

from __future__ import annotations

from django.http import Http404

from ketaclinic.patients.access import access_patient, refuse

from .models import TreatmentSession

#: What the session page and its writes read with the session: its patient, plan, visit,
#: chair, clinicians and discharge (when signed), in the same query.
WITH_SESSION = (
    "patient",
    "plan__protocol",
    "plan__screening__signed_by",
    "plan__signed_by",
    "appointment__type",
    "appointment__preparation",
    "chair__room",
    "nurse",
    "prescriber_on_site",
    "discharge__signed_by",
)


def access_session(request, session_id: int, permission: str) -> TreatmentSession:
    """The session ``request.user`` may act on with ``permission``, or 404 (audited) / 403."""
    session = TreatmentSession.objects.select_related(*WITH_SESSION).filter(pk=session_id).first()
    if session is None:
        refuse(request, None, permission, f"no treatment session {session_id}")
        raise Http404("No such session.")
    access_patient(request, session.patient_id, permission)
    return session
