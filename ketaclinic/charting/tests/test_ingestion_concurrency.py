"""20 processes post the same batch with the same Idempotency-Key at the same moment, through
a real server (gunicorn) on a fresh database of the suite's kind: one copy is stored, every
process gets the same answer, nothing answers 5xx or "database is locked". Then 20 processes
post different batches to the same session at once: all are stored and an alert the batches
share is raised once (the session row serialises writers to one session).
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import uuid

import pytest
from django.db import connection

from ketaclinic.scheduling.tests.test_concurrent_booking import (
    ROOT,
    free_port,
    manage,
    postgres_url,
    psql,
    wait_until_up,
)

pytestmark = pytest.mark.concurrency

PROCESSES = 20
ROUNDS = 3

SETUP = """
import json
from ketaclinic.charting.tests.floor import make_chairs, make_session, monitor_in
from ketaclinic.conftest import make_patient, make_user
prescriber = make_user("prescriber", "prescriber")
nurse = make_user("nurse", "nurse")
floor = {}
for name, chair in zip(("same", "different"), make_chairs(2)):
    session = make_session(patient=make_patient("Race", name.title()), prescriber=prescriber,
                           nurse=nurse, chair=chair, opened_minutes_ago=240)
    floor[name] = {"session": session.pk, "token": monitor_in(chair)[1]}
print(json.dumps(floor))
"""

COUNT = """
from ketaclinic.charting.models import IngestionRequest, SafetyAlert, VitalReading
session = {session}
print(VitalReading.objects.filter(session=session).count(),
      IngestionRequest.objects.filter(response__session_id=session).count(),
      SafetyAlert.objects.filter(session=session, code="bp_high").count())
"""


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """A fresh, migrated database of the suite's kind; the environment to reach it."""
    tmp_path = tmp_path_factory.mktemp("ingest")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SQLITE_PATH"}}
    env["KETACLINIC_VAR_DIR"] = str(tmp_path)
    name = f"ingest_{uuid.uuid4().hex[:10]}"
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


@pytest.fixture(scope="module")
def server(database, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("server")
    setup = json.loads(manage(database, "shell", stdin=SETUP).strip().splitlines()[-1])
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
            "5",
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=database | {"LOG_LEVEL": "ERROR"},
        stderr=log.open("w"),
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base, process, log)
    yield base, setup, database, log
    process.send_signal(signal.SIGQUIT)  # stop now: workers hold keep-alive connections
    process.wait(timeout=20)


def poster(url, token, key, body, barrier, results) -> None:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": key,
            "Content-Type": "application/json",
        },
    )
    barrier.wait(timeout=30)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            replayed = response.headers.get("Idempotent-Replayed") == "true"
            results.put((response.status, response.read().decode(), replayed))
    except urllib.error.HTTPError as error:
        results.put((error.code, error.read().decode()[:500], False))
    except Exception as error:  # a dropped connection is a failure too, with its reason
        results.put((0, repr(error), False))


def race(url: str, token: str, requests: list[tuple[str, bytes]]) -> list[tuple[int, str, bool]]:
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(len(requests)), context.Queue()
    processes = [
        context.Process(target=poster, args=(url, token, key, body, barrier, results))
        for key, body in requests
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    return outcomes


def batch(number: int, *, high: bool) -> bytes:
    """Five readings a minute apart, within the last half hour, distinct per number."""
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30, seconds=-10 * number)
    readings = [
        {
            "taken_at": (start + dt.timedelta(minutes=m)).isoformat(),
            "systolic_mmhg": 186 if high and m == 4 else 128,
            "diastolic_mmhg": 82,
            "heart_rate_bpm": 70 + m,
            "spo2_pct": 98,
        }
        for m in range(5)
    ]
    return json.dumps({"readings": readings}).encode()


def counts(env: dict, session: int) -> tuple[int, int, int]:
    readings, keys, bp_high = manage(env, "shell", stdin=COUNT.format(session=session)).split()[-3:]
    return int(readings), int(keys), int(bp_high)


def test_twenty_identical_posts_store_one_copy(server):
    base, setup, env, log = server
    floor = setup["same"]
    url = f"{base}/api/v1/sessions/{floor['session']}/vitals"
    for round_number in range(1, ROUNDS + 1):
        body = batch(round_number, high=round_number == 1)

        outcomes = race(url, floor["token"], [(f"round-{round_number}", body)] * PROCESSES)

        problems = [text for status, text, _ in outcomes if status != 201]
        assert not problems, f"round {round_number}: {problems}\n{log.read_text()[-4000:]}"
        assert len({text for _, text, _ in outcomes}) == 1, "every process gets the same answer"
        assert sum(replayed for *_, replayed in outcomes) == PROCESSES - 1
        assert json.loads(outcomes[0][1])["stored"] == 5
    assert counts(env, floor["session"]) == (5 * ROUNDS, ROUNDS, 1)
    assert "intact" in manage(env, "audit_verify")


def test_twenty_different_batches_at_once_are_all_stored_and_alert_once(server):
    base, setup, env, log = server
    floor = setup["different"]
    url = f"{base}/api/v1/sessions/{floor['session']}/vitals"
    requests = [(f"batch-{n}", batch(n, high=True)) for n in range(PROCESSES)]

    outcomes = race(url, floor["token"], requests)

    problems = [text for status, text, _ in outcomes if status != 201]
    assert not problems, f"{problems}\n{log.read_text()[-4000:]}"
    assert not any(replayed for *_, replayed in outcomes)
    assert counts(env, floor["session"]) == (5 * PROCESSES, PROCESSES, 1)
    assert "intact" in manage(env, "audit_verify")
