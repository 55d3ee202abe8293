"""Work FHIR Bulk Data export jobs: ``--once`` runs at most one job (tests, cron); without it
the command loops, polling for jobs and deleting expired files, until stopped."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from ketaclinic.fhir import jobs


class Command(BaseCommand):
    help = "Run queued FHIR Bulk Data export jobs (a job whose worker died is re-claimed)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run at most one job, then exit.")
        parser.add_argument("--poll", type=float, default=5.0, help="Seconds between polls.")

    def handle(self, *args, once: bool = False, poll: float = 5.0, **options):
        jobs.cleanup()
        if once:
            self.report(jobs.work_one())
            return
        while True:  # pragma: no cover - the loop is the --once step repeated
            try:
                job = jobs.work_one()
            except Exception as problem:  # recorded on the job as failed; keep serving others
                self.stderr.write(f"Export job failed: {problem!r}")
                continue
            self.report(job)
            if job is None:
                jobs.cleanup()
                time.sleep(poll)

    def report(self, job) -> None:
        if job is None:
            self.stdout.write("No export job waiting.")
        else:
            counts = ", ".join(f"{o['type']} {o['count']}" for o in job.output)
            self.stdout.write(f"Export {job.id}: {job.status}. {counts}")
