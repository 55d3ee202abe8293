"""Spravato REMS records: the patient's enrolment, the clinic's setting certification and
the Patient Monitoring Form of each esketamine session (``rems.py`` defines the form as data,
``rems_record.py`` fills it from the session record)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

USER = settings.AUTH_USER_MODEL


class RemsEnrollment(models.Model):
    """The patient's Spravato REMS enrolment, required before the first esketamine session."""

    patient = models.OneToOneField(
        "patients.Patient", on_delete=models.PROTECT, related_name="rems_enrollment"
    )
    rems_patient_id = models.CharField("REMS patient ID", max_length=40)
    enrolled_on = models.DateField()
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"REMS {self.rems_patient_id}"


class SettingCertification(models.Model):
    """The clinic's certification as a Spravato REMS healthcare setting."""

    certificate_id = models.CharField(max_length=40)
    certified_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-certified_on"]

    def __str__(self) -> str:
        return f"REMS setting {self.certificate_id}"


class RemsForm(models.Model):
    """The Patient Monitoring Form of one esketamine session, due within 7 days."""

    session = models.OneToOneField(
        "charting.TreatmentSession", on_delete=models.PROTECT, related_name="rems_form"
    )
    values = models.JSONField(default=dict)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"REMS form for session {self.session_id}"
