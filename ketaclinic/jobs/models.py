"""One row per periodic job (its schedule and claim) and one per run (what happened)."""

from __future__ import annotations

from django.db import models


class Outcome(models.TextChoices):
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    RUNNING = "running", "Running"


class JobQuerySet(models.QuerySet):
    def due(self, now, names):
        """Registered jobs whose time has come and that nobody holds (or whose holder died)."""
        return self.filter(name__in=names, next_run_at__lte=now).filter(
            models.Q(locked_until__isnull=True) | models.Q(locked_until__lt=now)
        )


class Job(models.Model):
    name = models.CharField(max_length=100, unique=True)
    next_run_at = models.DateTimeField()
    # The claim: a runner holds the job until locked_until; claim_token proves it is still
    # the holder when it writes the outcome (a presumed-dead runner may have been replaced).
    locked_by = models.CharField(max_length=200, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    last_message = models.TextField(blank=True)
    last_error = models.TextField(blank=True)
    last_run_by = models.CharField(max_length=200, blank=True)
    failures_in_a_row = models.PositiveIntegerField(default=0)
    runs = models.PositiveIntegerField(default=0)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def holder_lost(self) -> bool:
        """Claimed, but the lease ran out: its runner died; the next runner takes it over."""
        from django.utils import timezone

        return self.locked_until is not None and self.locked_until < timezone.now()


class JobRun(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="history")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    message = models.TextField(blank=True)
    error = models.TextField(blank=True)
    host = models.CharField(max_length=200)
    attempt = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["job", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.job.name} at {self.started_at:%Y-%m-%d %H:%M:%S}: {self.outcome}"
