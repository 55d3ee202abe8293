"""``manage.py run_jobs [--once] [--poll SECONDS]``: the clinic's periodic jobs, one home.

Run it beside gunicorn on every app server (systemd unit or container); each due job is
claimed by one runner only. ``--once`` runs what is due now and exits (for a timer or tests).
"""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from ketaclinic.jobs import runner
from ketaclinic.jobs.models import Outcome


class Command(BaseCommand):
    help = "Run the clinic's periodic jobs (reminders, pruning, checkpoints...) until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run what is due, then exit")
        parser.add_argument("--poll", type=float, default=5.0, help="seconds between looks")

    def handle(self, once: bool, poll: float, **options):
        if poll <= 0:
            raise CommandError("--poll must be more than 0 seconds")
        if once:
            runs = runner.run_due()
            for run in runs:
                self.stdout.write(f"{run.job.name}: {run.outcome}")
            failed = [run.job.name for run in runs if run.outcome == Outcome.FAILED]
            if failed:
                raise CommandError(f"failed: {', '.join(failed)} (see /jobs/)")
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write(f"job runner {runner.runner_name()} polling every {poll:g} s")
        runner.run_forever(stop=stop, poll_seconds=poll)
