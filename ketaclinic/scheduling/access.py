"""Permission-checked fetch of an appointment, for the calendar pages and the API alike.

An appointment that does not exist, or belongs to a patient the user may not see, answers
404 (never 403: it must not confirm that the visit exists); either refusal is audited, the
second by ``patients.access``.
"""

from __future__ import annotations

from django.http import Http404

from ketaclinic.patients.access import access_patient, refuse

from .models import MAX_ROW_ID, Appointment


def access_appointment(request, appointment_id: int, permission: str) -> Appointment:
    """The appointment ``request.user`` may act on with ``permission``, or 404/403."""
    appointment = None
    if appointment_id <= MAX_ROW_ID:  # a larger path id names no row: 404, not an overflow
        appointment = (
            Appointment.objects.select_related("type", "patient", "staff", "chair__room")
            .filter(pk=appointment_id)
            .first()
        )
    if appointment is None:
        refuse(request, None, permission, f"no such appointment ({appointment_id})")
        raise Http404("No such appointment.")
    access_patient(request, appointment.patient_id, permission)
    return appointment
