"""Bring every active plan's measures in line with its course (run daily from cron).

Pages sync a plan that has no measures yet on first view; this also catches courses whose
sessions were moved after the measures were made.
"""

from django.core.management.base import BaseCommand

from ketaclinic.audit import trail
from ketaclinic.outcomes import services
from ketaclinic.plans.models import PlanStatus, TreatmentPlan


class Command(BaseCommand):
    help = "Create and cancel outcome measures so they match each active plan's course."

    def handle(self, **options):
        created = cancelled = 0
        plans = TreatmentPlan.objects.filter(status=PlanStatus.ACTIVE).prefetch_related(
            "planned_sessions"
        )
        for plan in plans:
            result = services.tasks_sync(plan)
            created += result["created"]
            cancelled += result["cancelled"]
        if created or cancelled:
            trail.record(
                action="outcome.schedule",
                actor_username="outcomes_schedule",
                detail={"created": created, "cancelled": cancelled},
            )
        self.stdout.write(f"measures: {created} created, {cancelled} cancelled")
