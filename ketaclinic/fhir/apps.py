from __future__ import annotations

from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "ketaclinic.fhir"
    label = "fhir"
    verbose_name = "FHIR R4"

    def ready(self) -> None:
        from ketaclinic.jobs.registry import register_command, timedelta
        from ketaclinic.patients.chart import register_tab

        from . import review_views

        register_tab(
            "imports", "Imported records", "fhir.import", review_views.imports_tab, position=140
        )

        # The cron-style fallback of the export worker: one waiting export per minute, and
        # export files past their 24 hours deleted. A dedicated `fhir_export_worker` loop
        # (no --once) serves exports at once; both claim jobs safely side by side.
        register_command(
            "fhir_export_worker",
            "--once",
            every=timedelta(minutes=1),
            description="Run one waiting FHIR bulk export; delete export files past 24 hours.",
            lease=timedelta(hours=2),
        )
