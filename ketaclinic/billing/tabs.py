"""The chart's "Coverage" tab (registered into patients/chart.py from BillingConfig.ready())."""

from __future__ import annotations

from django.utils import timezone

from . import coverage_services


def coverage_tab(request, patient) -> dict:
    return {
        "coverage_current": coverage_services.current_coverage(patient),
        "coverage_history": coverage_services.coverage_history(patient),
        "today": timezone.localdate(),
    }
