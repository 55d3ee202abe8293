"""Two job runners, as on two app servers, race over one database: each due job runs once.

Real OS processes (``manage.py run_jobs --once``) against a fresh database of the suite's
kind (PostgreSQL in CI: ``SELECT ... FOR UPDATE SKIP LOCKED``; SQLite: IMMEDIATE
transactions). Every round makes reminders due and starts both runners at the same moment;
every reminder is sent exactly once (counted in the emails both runners printed), and each
due job has exactly one run. The setup and the checks go through ``manage.py shell`` so this
module imports no app that comes after ``jobs``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

pytestmark = pytest.mark.concurrency

ROOT = Path(__file__).resolve().parents[3]
ROUNDS = 2
PATIENTS_PER_ROUND = 12

MAKE_DUE = """
import datetime as dt
from django.utils import timezone
from ketaclinic.accounts.models import User
from ketaclinic.jobs.models import Job
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling.models import Appointment, AppointmentType
desk, _ = User.objects.get_or_create(username="desk", defaults={{"role": "front_desk"}})
kind = AppointmentType.objects.get(code="consultation")
start = timezone.now() + dt.timedelta(hours=3)
for n in range({patients}):
    patient = Patient.objects.create(
        given_name="Round{round}", family_name=f"Patient{{n}}", date_of_birth=dt.date(1980, 1, 1),
        sex="female", email=f"r{round}p{{n}}@example.org",
    )
    Appointment.objects.create(
        patient=patient, type=kind, starts_at=start, ends_at=start + dt.timedelta(minutes=kind.minutes),
        created_by=desk,
    )
Job.objects.filter(name="send_reminders").update(next_run_at=timezone.now())
if {round} > 1:  # the other jobs ran in round one; keep them out of the later rounds
    Job.objects.exclude(name="send_reminders").update(next_run_at=timezone.now() + dt.timedelta(days=1))
"""

COUNT = """
import json
from ketaclinic.jobs.models import Job, JobRun
from ketaclinic.scheduling.models import Reminder
print(json.dumps({
    "reminders": Reminder.objects.count(),
    "runs": {job.name: JobRun.objects.filter(job=job).count() for job in Job.objects.all()},
    "failed": list(JobRun.objects.filter(outcome="failed").values_list("error", flat=True)),
    "locked": list(Job.objects.exclude(locked_by="").values_list("name", flat=True)),
}))
"""


@pytest.fixture
def runner_database(tmp_path):
    """A fresh database of the suite's kind, migrated; yields the environment to reach it."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SQLITE_PATH"}}
    env["KETACLINIC_VAR_DIR"] = str(tmp_path)
    env["EMAIL_BACKEND"] = "django.core.mail.backends.console.EmailBackend"
    name = f"jobs_{uuid.uuid4().hex[:10]}"
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        psql(postgres_url(settings, "postgres"), f"CREATE DATABASE {name}")
        env["DATABASE_URL"] = postgres_url(settings, name)
    else:
        env["SQLITE_PATH"] = str(tmp_path / f"{name}.sqlite3")
    manage(env, "migrate", "--noinput", "-v0")
    yield env
    if connection.vendor == "postgresql":
        psql(postgres_url(settings, "postgres"), f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def postgres_url(settings: dict, name: str) -> str:
    user, password = settings["USER"] or "postgres", settings["PASSWORD"] or ""
    auth = f"{user}:{password}" if password else user
    return f"postgres://{auth}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{name}"


def psql(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def manage(env: dict, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def two_runners_at_once(env: dict) -> list[str]:
    """Start both runners together; return what each printed (the console emails)."""
    runners = [
        subprocess.Popen(
            [sys.executable, "manage.py", "run_jobs", "--once"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = []
    for process in runners:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-3000:]
        outputs.append(out)
    return outputs


def counts(env: dict) -> dict:
    return json.loads(manage(env, "shell", stdin=COUNT).strip().splitlines()[-1])


def test_two_runners_send_every_due_reminder_exactly_once(runner_database):
    env = runner_database
    for round_number in range(1, ROUNDS + 1):
        manage(env, "shell", stdin=MAKE_DUE.format(patients=PATIENTS_PER_ROUND, round=round_number))

        outputs = two_runners_at_once(env)

        printed = "".join(outputs)
        for n in range(PATIENTS_PER_ROUND):
            # Each email once, by one runner or the other, never both.
            assert printed.count(f"To: r{round_number}p{n}@example.org\n") == 1, round_number
        state = counts(env)
        assert state["reminders"] == round_number * PATIENTS_PER_ROUND
        assert state["failed"] == []
        assert state["locked"] == []
        # One run of the reminder job per round; every other job (due only in round one)
        # ran once across both runners.
        assert state["runs"]["send_reminders"] == round_number
        others = {name: runs for name, runs in state["runs"].items() if name != "send_reminders"}
        assert {"audit_checkpoint", "outcomes_schedule", "prune_ingestion_keys"} <= set(others)
        assert set(others.values()) == {1}, others
