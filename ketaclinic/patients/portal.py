"""The patient's portal home: their own record, read-only, in plain words.

Later apps add what the patient should see there (outcomes: the questionnaires due) by
registering a section from their ``AppConfig.ready()``; this app may not import them.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from ketaclinic.accounts.roles import Role

from .access import access_patient
from .models import Patient

SectionLoader = Callable[[Patient], object]
SECTIONS: dict[str, SectionLoader] = {}


def register_section(name: str, loader: SectionLoader) -> None:
    """Put ``loader(patient)`` in the portal home's context as ``name``."""
    SECTIONS[name] = loader


@login_required
def portal(request):
    """The patient's own record, read-only, in plain words."""
    patient = getattr(request.user, "patient_record", None)
    if request.user.role != Role.PATIENT or patient is None:
        raise Http404
    patient = access_patient(request, patient.pk, "patient.view_clinical", section="portal")
    context = {
        "patient": patient,
        "upcoming": patient.appointments.upcoming().select_related("type")[:8],
        "weight": patient.current_weight(),
        "diagnoses": patient.diagnoses.valid().filter(status="active"),
        "medications": patient.medications.valid().filter(status="active"),
        "allergies": patient.allergies.valid(),
        "care_team": patient.care_team.valid().select_related("user"),
    }
    context.update({name: loader(patient) for name, loader in SECTIONS.items()})
    return render(request, "portal/home.html", context)
