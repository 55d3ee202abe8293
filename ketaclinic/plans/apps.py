from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "ketaclinic.plans"
    label = "plans"

    def ready(self) -> None:
        # Plans comes after patients: it adds its chart tab instead of being imported.
        from ketaclinic.patients.chart import register_tab

        from .tabs import screening_plan_tab

        register_tab(
            "screening-plan", "Screening & plan", "plan.view", screening_plan_tab, position=60
        )
