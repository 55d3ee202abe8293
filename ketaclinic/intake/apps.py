from __future__ import annotations

from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "ketaclinic.intake"
    label = "intake"
    verbose_name = "Intake"

    def ready(self) -> None:
        from ketaclinic.web import urgent

        from . import triage

        urgent.register_source("consultation_requests", triage.urgent_items)

        from ketaclinic.patients.chart import register_tab

        from . import review_views

        register_tab(
            "intake", "Intake & consent", "intake.review", review_views.intake_tab, position=90
        )

        from . import invitations

        register_tab(
            "portal", "Portal access", "portal.invite", invitations.portal_tab, position=100
        )
