"""Coverage on the patient record: add, change (a new row closing the old one), list. Audited."""

from __future__ import annotations

import dataclasses

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketaclinic.audit import trail

from .coverage import CoverageInput, coverage_problems
from .models import Coverage

FIELDS = [f.name for f in dataclasses.fields(CoverageInput)]


def current_coverage(patient) -> Coverage | None:
    return patient.coverages.current().first()


def coverage_history(patient):
    return patient.coverages.select_related("created_by", "closed_by").order_by(
        "-created_at", "-id"
    )


def coverage_add(*, request, patient, entry: CoverageInput) -> Coverage:
    """Store ``entry`` as the patient's coverage; the one it replaces is closed, never changed."""
    problems = coverage_problems(entry)
    if problems:
        trail.record(
            action="coverage.create",
            request=request,
            patient=patient,
            outcome="invalid",
            detail={"errors": problems},
        )
        raise ValidationError(problems)
    now = timezone.now()
    with transaction.atomic():
        previous = patient.coverages.select_for_update().current().first()
        if previous is not None:
            previous.closed_at = now
            previous.closed_by = request.user
            previous.save(update_fields=["closed_at", "closed_by"])
        coverage = Coverage.objects.create(
            patient=patient,
            replaces=previous,
            created_by=request.user,
            created_at=now,
            **dataclasses.asdict(entry),
        )
        trail.record(
            action="coverage.create",
            request=request,
            patient=patient,
            target=coverage,
            detail={
                "self_pay": entry.self_pay,
                "payer": entry.payer_name,
                "from": entry.effective_from.isoformat(),
                "to": entry.effective_to.isoformat() if entry.effective_to else None,
                "replaces": previous.pk if previous else None,
            },
        )
    return coverage
