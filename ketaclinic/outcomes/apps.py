from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate


def seed_after_migrate(sender, apps=None, **kwargs) -> None:
    """Shipped instruments are back after every migrate and every flush."""
    # flush sends post_migrate without ``apps``; migrate sends the migration state.
    apps = apps or global_apps
    from .seeding import seed_instruments

    seed_instruments(apps.get_model("outcomes", "InstrumentDefinition"))


class OutcomesConfig(AppConfig):
    name = "ketaclinic.outcomes"
    label = "outcomes"
    verbose_name = "Outcomes"

    def ready(self) -> None:
        post_migrate.connect(seed_after_migrate, sender=self)
        from ketaclinic.web import urgent

        from .urgent import urgent_items

        urgent.register_source("safety_tasks", urgent_items)  # the staff banner (issue #12)

        from ketaclinic.patients import portal
        from ketaclinic.patients.chart import register_tab

        from . import resend, tabs

        register_tab("outcomes", "Outcomes", "outcomes.view", tabs.outcomes_tab, position=70)
        register_tab(
            "reminders", "Reminders", "reminder.resend", resend.reminders_tab, position=110
        )
        portal.register_section("questionnaires_due", tabs.portal_questionnaires_due)
        from ketaclinic.plans import sign_hooks

        from .services import tasks_sync

        sign_hooks.register(tasks_sync)  # the measures due over a newly signed course
        from ketaclinic.scheduling import reminders

        from .reminder_lines import questionnaire_lines

        reminders.register_lines(questionnaire_lines)
        from ketaclinic.charting import checklist_facts

        from .checklist import phq9_done_today

        checklist_facts.register_fact_source("phq9", phq9_done_today)  # pre-session checklist
        from ketaclinic.jobs.registry import register_command, timedelta

        register_command(
            "outcomes_schedule",
            every=timedelta(hours=6),
            description="Create and cancel questionnaires so they match each active plan.",
        )
