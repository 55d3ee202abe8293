"""The clinic's Spravato REMS register: forms due and overdue, forms filed, patient
enrolment and the clinic's setting certification.

A certified setting files a Patient Monitoring Form after every esketamine session within
7 days (the form's data, ``rems.py``); the work lists here say which are due and overdue.
Enrolment and certification are recorded by a named user, old values kept in the audit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from ketaclinic.audit import trail
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlanStatus

from . import rems
from .models import (
    RecordStatus,
    RemsEnrollment,
    RemsForm,
    SettingCertification,
    TreatmentSession,
)
from .rems_facts import DEFINITION, FORM_STATUSES, treatment_date


@dataclass(frozen=True)
class DueForm:
    """One esketamine session's form on the work list."""

    session: TreatmentSession
    treatment_date: dt.date
    due_date: dt.date
    submitted_at: dt.datetime | None
    overdue: bool

    @property
    def days_late(self) -> int:
        return (timezone.localdate() - self.due_date).days


def sessions_needing_forms():
    return (
        TreatmentSession.objects.filter(route="esketamine", status__in=FORM_STATUSES)
        .select_related("patient", "rems_form")
        .annotate(first_device_at=Min("devices__at", filter=Q(devices__status=RecordStatus.FINAL)))
    )


def due_forms(
    *, today: dt.date | None = None, overdue_only: bool = False, unfiled_only: bool = True
) -> list[DueForm]:
    """Esketamine sessions whose form is not filed (or all), oldest due date first."""
    today = today or timezone.localdate()
    sessions = sessions_needing_forms()
    if unfiled_only:
        sessions = sessions.filter(Q(rems_form__isnull=True) | Q(rems_form__submitted_at=None))
    if overdue_only:
        # Treated no earlier than opened: only sessions opened before the due window closed.
        cutoff = today - dt.timedelta(days=DEFINITION.due_within_days)
        midnight = timezone.make_aware(dt.datetime.combine(cutoff, dt.time.min))
        sessions = sessions.filter(opened_at__lt=midnight)
    listed = []
    for session in sessions:
        day = treatment_date(session, session.first_device_at)
        form = getattr(session, "rems_form", None)
        submitted_at = form.submitted_at if form is not None else None
        submitted_on = timezone.localdate(submitted_at) if submitted_at else None
        overdue = rems.is_overdue(day, submitted_on, today, DEFINITION)
        if overdue_only and not overdue:
            continue
        listed.append(DueForm(session, day, rems.due_date(day, DEFINITION), submitted_at, overdue))
    return sorted(listed, key=lambda f: (f.due_date, f.session.pk))


def filed_forms(limit: int = 50) -> Iterable[RemsForm]:
    return (
        RemsForm.objects.filter(submitted_at__isnull=False)
        .select_related("session__patient", "submitted_by")
        .order_by("-submitted_at")[:limit]
    )


def unenrolled_esketamine_patients():
    """Patients with an active esketamine plan and no REMS enrolment on record."""
    return (
        Patient.objects.filter(
            plans__status=PlanStatus.ACTIVE, plans__route="esketamine", rems_enrollment__isnull=True
        )
        .distinct()
        .order_by("family_name", "given_name")
    )


# ---------------------------------------------------------------- enrolment and certification


def rems_enrol(*, request, patient, rems_patient_id: str, enrolled_on: dt.date) -> RemsEnrollment:
    """Record (or correct) the patient's REMS enrolment; the old values stay in the audit."""
    action = "rems.enrol"
    try:
        rems_patient_id = (rems_patient_id or "").strip()
        if not rems_patient_id:
            raise ValidationError({"rems_patient_id": "Give the REMS patient ID."})
        if enrolled_on > timezone.localdate():
            raise ValidationError({"enrolled_on": "Enrolment cannot be in the future."})
        with transaction.atomic():
            enrolment = RemsEnrollment.objects.select_for_update().filter(patient=patient).first()
            before = (
                {
                    "rems_patient_id": enrolment.rems_patient_id,
                    "enrolled_on": enrolment.enrolled_on.isoformat(),
                }
                if enrolment
                else {}
            )
            if enrolment is None:
                enrolment = RemsEnrollment(patient=patient)
            enrolment.rems_patient_id = rems_patient_id
            enrolment.enrolled_on = enrolled_on
            enrolment.recorded_by = request.user
            enrolment.recorded_at = timezone.now()
            enrolment.save()
            trail.record(
                action=action,
                request=request,
                patient=patient,
                target=enrolment,
                detail={
                    "before": before,
                    "after": {
                        "rems_patient_id": rems_patient_id,
                        "enrolled_on": enrolled_on.isoformat(),
                    },
                },
            )
        return enrolment
    except ValidationError as error:
        trail.reject(request, action, error, patient.pk)


def rems_certify(
    *, request, certificate_id: str, certified_on: dt.date, expires_on: dt.date | None
) -> SettingCertification:
    """Record the clinic's REMS healthcare-setting certification (a renewal is a new row)."""
    action = "rems.certify"
    try:
        certificate_id = (certificate_id or "").strip()
        if not certificate_id:
            raise ValidationError({"certificate_id": "Give the certificate ID."})
        if expires_on is not None and expires_on < certified_on:
            raise ValidationError({"expires_on": "The certificate expires before it starts."})
        with transaction.atomic():
            certificate = SettingCertification.objects.create(
                certificate_id=certificate_id,
                certified_on=certified_on,
                expires_on=expires_on,
                recorded_by=request.user,
            )
            trail.record(
                action=action,
                request=request,
                target=certificate,
                detail={
                    "certificate_id": certificate_id,
                    "certified_on": certified_on.isoformat(),
                    "expires_on": expires_on.isoformat() if expires_on else None,
                },
            )
        return certificate
    except ValidationError as error:
        trail.reject(request, action, error)
