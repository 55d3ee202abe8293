"""Charting's place in the clinic: what it registers with the apps before it."""

from django.apps import AppConfig


class ChartingConfig(AppConfig):
    name = "ketaclinic.charting"
    label = "charting"

    def ready(self) -> None:
        from ketaclinic.jobs.registry import register_command, timedelta
        from ketaclinic.patients.chart import register_tab
        from ketaclinic.scheduling import holds, preparation
        from ketaclinic.screening import blood_pressure

        from .discharge_service import driving_advice
        from .session_service import open_session_holds_visit
        from .tabs import sessions_tab
        from .vitals_service import todays_blood_pressure

        holds.register(open_session_holds_visit)  # an open session keeps its visit checked in
        blood_pressure.register_reader(todays_blood_pressure)  # the screening form's BP
        preparation.register_route_advice(driving_advice)  # visit preparation: driving
        register_tab("sessions", "Sessions", "session.view", sessions_tab, position=80)
        register_command(
            "prune_ingestion_keys",
            every=timedelta(days=1),
            description="Forget bedside monitors' idempotency keys older than 24 hours.",
        )
