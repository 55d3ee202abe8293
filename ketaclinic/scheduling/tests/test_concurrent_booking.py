"""16 processes race for one chair, 20 rounds, through a real server on the test's database.

Each round every process asks for the same chair at the same moment: exactly one wins
(201), the others get 409, nothing answers 5xx or "database is locked", and the audit
trail's hash chain is still intact afterwards. A second race books one patient into eight
different chairs at once: exactly one wins (a patient is never in two visits). Runs against
whichever database the suite runs on (SQLite file or PostgreSQL), in a database of its own.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.db import connection

pytestmark = pytest.mark.concurrency

ROOT = Path(__file__).resolve().parents[3]
PROCESSES = 16
ROUNDS = 20
FIRST_MONDAY = dt.date(2027, 3, 1)

SETUP = """
import datetime as dt
from ketaclinic.accounts.models import ApiToken, User
from ketaclinic.outcomes.tests.factories import make_plan
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling.models import Chair, Room, StaffShift
desk = User.objects.create(username="desk", role="front_desk")
prescriber = User.objects.create(username="prescriber", role="prescriber")
for number in range(4):
    nurse = User.objects.create(username=f"nurse{{number}}", role="nurse")
    for weekday in range(5):
        StaffShift.objects.create(user=nurse, weekday=weekday, starts_at=dt.time(8), ends_at=dt.time(18))
room = Room.objects.create(name="Suite", kind="infusion_suite")
chairs = [Chair.objects.create(room=room, name=f"Chair {{n}}") for n in range(1, 9)]
patients = [
    Patient.objects.create(given_name="Race", family_name=str(n), date_of_birth=dt.date(1980, 1, 1), sex="female")
    for n in range({processes})
]
# Infusions are booked against a signed plan (scheduling rule).
for patient in patients:
    make_plan(patient, prescriber, start=dt.date(2027, 3, 1), status="active")
token, raw = ApiToken.issue(desk, "race")
print(__import__("json").dumps({{
    "token": raw, "chair": chairs[0].pk, "chairs": [c.pk for c in chairs],
    "patients": [p.pk for p in patients],
}}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def working_days(count: int) -> list[dt.date]:
    days, day = [], FIRST_MONDAY
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


@pytest.fixture
def race_database(tmp_path):
    """A fresh database of the suite's kind, migrated; yields the environment to reach it."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SQLITE_PATH"}}
    env["KETACLINIC_VAR_DIR"] = str(tmp_path)
    name = f"race_{uuid.uuid4().hex[:10]}"
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        admin_url = postgres_url(settings, "postgres")
        psql(admin_url, f"CREATE DATABASE {name}")
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
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def server(race_database, tmp_path):
    setup = json.loads(
        manage(race_database, "shell", stdin=SETUP.format(processes=PROCESSES))
        .strip()
        .splitlines()[-1]
    )
    port = free_port()
    log = tmp_path / "server.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "ketaclinic.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "4",
            "--threads",
            "4",
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=race_database | {"LOG_LEVEL": "ERROR"},
        stderr=log.open("w"),
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base, process, log)
    yield base, setup, race_database, log
    process.terminate()
    process.wait(timeout=20)


def wait_until_up(base: str, process: subprocess.Popen, log: Path) -> None:
    for _ in range(100):
        if process.poll() is not None:
            raise AssertionError(f"server died: {log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=10)
            return
        except OSError:  # refused while starting, or slow on the first request
            time.sleep(0.2)
    raise AssertionError("server did not start")


def contender(base, token, body, barrier, results) -> None:
    request = urllib.request.Request(
        f"{base}/api/v1/appointments",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    barrier.wait(timeout=30)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            results.put((response.status, ""))
    except urllib.error.HTTPError as error:
        results.put((error.code, error.read().decode()[:300]))
    except Exception as error:  # a dropped connection is a failure too, with its reason
        results.put((0, repr(error)))


def race(base: str, setup: dict, day: dt.date) -> list[tuple[int, str]]:
    """Every patient asks for the same chair at the same moment."""
    starts_at = dt.datetime.combine(day, dt.time(9)).isoformat()
    bodies = [
        {
            "patient_id": patient,
            "type": "iv_infusion",
            "starts_at": starts_at,
            "chair_id": setup["chair"],
        }
        for patient in setup["patients"]
    ]
    return run_contenders(base, setup["token"], bodies)


def run_contenders(base: str, token: str, bodies: list[dict]) -> list[tuple[int, str]]:
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(len(bodies)), context.Queue()
    processes = [
        context.Process(target=contender, args=(base, token, body, barrier, results))
        for body in bodies
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    return outcomes


def test_exactly_one_of_sixteen_processes_wins_each_round(server):
    base, setup, env, log = server
    for round_number, day in enumerate(working_days(ROUNDS), start=1):
        outcomes = race(base, setup, day)
        statuses = sorted(status for status, _ in outcomes)
        problems = [text for status, text in outcomes if status not in (201, 409)]
        assert not problems, f"round {round_number}: {problems}\n{log.read_text()[-4000:]}"
        assert statuses.count(201) == 1, f"round {round_number}: {statuses}"
        assert statuses.count(409) == PROCESSES - 1, f"round {round_number}: {statuses}"
        assert not any("locked" in text for _, text in outcomes)
    check = (
        "from ketaclinic.scheduling.models import Appointment\n"
        "print(Appointment.objects.count(), Appointment.objects.values('chair', 'starts_at')"
        ".distinct().count())\n"
    )
    total, distinct = manage(env, "shell", stdin=check).split()[-2:]
    assert int(total) == ROUNDS
    assert int(distinct) == ROUNDS
    assert "intact" in manage(env, "audit_verify")


def test_one_patient_booked_into_eight_chairs_at_once_gets_exactly_one(server):
    base, setup, env, log = server
    patient = setup["patients"][0]
    for round_number, day in enumerate(working_days(5), start=1):
        starts_at = dt.datetime.combine(day, dt.time(13)).isoformat()
        bodies = [
            {"patient_id": patient, "type": "iv_infusion", "starts_at": starts_at, "chair_id": c}
            for c in setup["chairs"]
        ]
        outcomes = run_contenders(base, setup["token"], bodies)
        statuses = sorted(status for status, _ in outcomes)
        problems = [text for status, text in outcomes if status not in (201, 409)]
        assert not problems, f"round {round_number}: {problems}\n{log.read_text()[-4000:]}"
        assert statuses.count(201) == 1, f"round {round_number}: {statuses}"
        losers = [text for status, text in outcomes if status == 409]
        assert all("already has IV ketamine infusion" in text for text in losers), losers
    check = (
        "from ketaclinic.scheduling.models import Appointment\n"
        f"print(Appointment.objects.filter(patient_id={patient}).count())\n"
    )
    assert int(manage(env, "shell", stdin=check).split()[-1]) == 5
    assert "intact" in manage(env, "audit_verify")
