"""Where billing shows itself on earlier apps' pages (chart tab, plan page, worklist, booking)."""

from __future__ import annotations


def register() -> None:
    from ketaclinic.patients import views as patient_views

    from .tabs import coverage_tab

    patient_views.register_tab("coverage", "Coverage", "coverage.view", coverage_tab)
