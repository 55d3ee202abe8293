"""Charting benchmarks (issue #5): chart and session pages, the live board, vitals ingestion.

Run with ``.venv/bin/python bench/charting.py`` (or ``make bench``). Never part of the suite.

1. Pages: the patient chart (summary and Sessions tab) and the session page of a patient with
   10 and with 1,000 past sessions: server time p50/p95 over 50 requests through Django's test
   client in-process, and the SQL query count. Target: p95 < 50 ms, and the same query count
   at both sizes with p95 growing at most 1.2x.
2. The live board with 20 active chairs, each with an hour of one-minute vitals: the HTMX
   poll and the full page, p50/p95 over 50 requests. Target: p95 < 100 ms.
3. Vitals ingestion through the API (batches of 60, each with an Idempotency-Key, from a
   monitor's token, into 20 running sessions, three hours each) against plain ``bulk_create``
   of the same rows in batches of 60, one transaction each, interleaved batch by batch in the
   same run (the API's last batch is untimed: its SQL queries are counted instead, because
   counting them slows every query; on SQLite each side checkpoints its own WAL pages on its
   own clock; cyclic garbage collection is off, as in timeit). On SQLite and on PostgreSQL
   (a scratch database created and dropped; skipped with a note when the server cannot be
   reached). Target: ingestion >= 50 % of plain inserts.

Each database part runs in a child process, because the database is fixed when Django
starts; every scratch database (a temporary SQLite file, ``ketaclinic_bench_<random>`` on
PostgreSQL) is made here and removed afterwards. ``BENCH_PG_URL`` names the PostgreSQL
server (default ``postgres://postgres@127.0.0.1:5432/postgres``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REQUESTS = 50
PAGE_TARGET_MS = 50
GROWTH_TARGET = 1.2  # p95 at 1,000 sessions over p95 at 10
BOARD_TARGET_MS = 100
INGEST_TARGET = 0.5
BATCH = 60
INGEST_SESSIONS = 20
BATCHES_PER_SESSION = 3


# ---------------------------------------------------------------- the parent: orchestration


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def run_child(part: str, env: dict) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", part],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{part} part failed:\n{result.stderr[-4000:]}")
    for line in reversed(result.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"{part} part printed no result:\n{result.stdout[-2000:]}")


def base_env(scratch: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SQLITE_PATH"}}
    env.update(
        DJANGO_SETTINGS_MODULE="ketaclinic.settings",
        KETACLINIC_VAR_DIR=str(scratch),
        PYTHONPATH=str(ROOT),
    )
    return env


def postgres_part(scratch: Path) -> tuple[dict | None, str]:
    try:
        import psycopg

        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except Exception as error:  # no driver, no server, refused: report it and go on
        return None, f"PostgreSQL skipped: cannot reach {PG_ADMIN_URL} ({error.__class__.__name__})"
    name = f"ketaclinic_bench_{uuid.uuid4().hex[:10]}"
    admin.execute(f"CREATE DATABASE {name}")
    try:
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        version = admin.execute("SHOW server_version").fetchone()[0]
        result = run_child("postgres", base_env(scratch) | {"DATABASE_URL": url})
        return result, f"PostgreSQL {version}, scratch database {name} (dropped)"
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def print_report(sqlite_result: dict, pg_result: dict | None, pg_note: str) -> None:
    print("1. pages (patient with 10 / 1,000 past sessions; SQLite; 50 requests each)")
    print(f"  {'page':<34}{'sessions':>9}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}  target")
    by_page: dict[str, list[dict]] = {}
    for row in sqlite_result["pages"]:
        by_page.setdefault(row["page"], []).append(row)
    for page, rows in by_page.items():
        same = len({r["queries"] for r in rows}) == 1
        for row in rows:
            if row["status"] != 200:
                print(f"  {page:<34}{row['sessions']:>9,}  not measured: {row['note']}")
                continue
            target = f"p95 < {PAGE_TARGET_MS} ms: {verdict(row['p95_ms'] < PAGE_TARGET_MS)}"
            if row is rows[-1]:
                growth = row["p95_ms"] / rows[0]["p95_ms"]
                target += f"; same queries: {verdict(same)}"
                target += f"; growth {growth:.2f}x <= {GROWTH_TARGET}x: "
                target += verdict(growth <= GROWTH_TARGET)
            print(
                f"  {page:<34}{row['sessions']:>9,}{row['p50_ms']:>9.1f}{row['p95_ms']:>9.1f}"
                f"{row['queries']:>9}  {target}"
            )
    print()
    print("2. live board, 20 active chairs, 60 one-minute readings each (SQLite)")
    print(f"  {'request':<34}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}  target")
    for row in sqlite_result["board"]:
        target = f"p95 < {BOARD_TARGET_MS} ms: {verdict(row['p95_ms'] < BOARD_TARGET_MS)}"
        print(
            f"  {row['request']:<34}{row['p50_ms']:>9.1f}{row['p95_ms']:>9.1f}"
            f"{row['queries']:>9}  {target}"
        )
    print()
    print(
        f"3. vitals ingestion: {INGEST_SESSIONS} sessions x {BATCHES_PER_SESSION} batches of "
        f"{BATCH} readings, interleaved with plain bulk_create of the same rows"
    )
    print(
        f"  {'database':<12}{'API readings/s':>16}{'ms/batch':>10}{'queries':>9}"
        f"{'plain readings/s':>18}{'ms/batch':>10}{'ratio':>8}  target"
    )
    parts = [("SQLite", sqlite_result)] + ([("PostgreSQL", pg_result)] if pg_result else [])
    for name, result in parts:
        ingest = result["ingestion"]
        ratio = ingest["api_rate"] / ingest["plain_rate"]
        print(
            f"  {name:<12}{ingest['api_rate']:>16,.0f}{ingest['api_ms_per_batch']:>10.1f}"
            f"{ingest['api_queries']:>9}{ingest['plain_rate']:>18,.0f}"
            f"{ingest['plain_ms_per_batch']:>10.1f}{ratio:>8.0%}  >= "
            f"{INGEST_TARGET:.0%}: {verdict(ratio >= INGEST_TARGET)}"
        )
    print(f"  {sqlite_result['database']}")
    print(f"  {pg_note}")


def main() -> int:
    print("machine")
    print(f"  cores (os.cpu_count)   {os.cpu_count()}")
    print(f"  CPU model              {cpu_model()}")
    print(f"  python / SQLite        {platform.python_version()} / {sqlite3.sqlite_version}")
    print(f"  load average (1/5/15)  {load_average()}  (other work on the machine skews timings)")
    print()
    scratch = Path(tempfile.mkdtemp(prefix="kc-bench-charting-"))
    try:
        env = base_env(scratch) | {"SQLITE_PATH": str(scratch / "bench.sqlite3")}
        sqlite_result = run_child("sqlite", env)
        pg_result, pg_note = postgres_part(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print_report(sqlite_result, pg_result, pg_note)
    # Missed targets are printed, not an exit code: wall-clock figures depend on the machine.
    return 0


# ---------------------------------------------------------------- the child: measurements


def child(part: str) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    # As in the tests: fast hashing for the bench users; no static-folder scan per client.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.WHITENOISE_USE_FINDERS = False
    call_command("migrate", verbosity=0)
    result: dict = {"database": f"SQLite {sqlite3.sqlite_version}, scratch file (removed)"}
    if connection.vendor == "sqlite":
        result["pages"] = bench_pages()
        result["board"] = bench_board()
    result["ingestion"] = bench_ingestion()
    print(json.dumps(result))


def timed(client, url: str, **headers) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = client.get(url, headers=headers)
    if first.status_code != 200:
        return {"status": first.status_code, "note": f"GET {url} answered {first.status_code}"}
    for _ in range(3):
        client.get(url, headers=headers)  # warm template and URL caches
    samples = []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        client.get(url, headers=headers)
        samples.append((time.perf_counter() - start) * 1000)
    with CaptureQueriesContext(connection) as queries:
        client.get(url, headers=headers)
    samples.sort()
    return {
        "status": 200,
        "p50_ms": statistics.median(samples),
        "p95_ms": samples[round(0.95 * (len(samples) - 1))],
        "queries": len(queries),
    }


def cast():
    from ketaclinic.accounts.models import User
    from ketaclinic.conftest import make_user

    prescriber = User.objects.filter(username="prescriber").first() or make_user(
        "prescriber", "prescriber", credentials="MD"
    )
    nurse = User.objects.filter(username="nurse").first() or make_user(
        "nurse", "nurse", credentials="RN"
    )
    return prescriber, nurse


def past_sessions(patient, plan, nurse, count: int) -> list:
    """``count`` discharged IV sessions, two days apart, each fully charted."""
    from decimal import Decimal

    from django.utils import timezone

    from ketaclinic.charting.models import (
        Discharge,
        InfusionEvent,
        SafetyAlert,
        TreatmentSession,
        VitalReading,
    )

    now = timezone.now()
    sessions = TreatmentSession.objects.bulk_create(
        [
            TreatmentSession(
                patient=patient,
                plan=plan,
                session_number=n,
                route="iv",
                protocol_code=plan.protocol.code,
                drug="racemic ketamine",
                planned_dose_mg=plan.dose_mg,
                planned_rate_mg_per_min=plan.rate_mg_per_min,
                planned_minutes=plan.infusion_minutes,
                status="discharged",
                nurse=nurse,
                opened_at=now - dt.timedelta(days=2 * (count - n + 1)),
                dose_started_at=now - dt.timedelta(days=2 * (count - n + 1), minutes=-15),
                dose_ended_at=now - dt.timedelta(days=2 * (count - n + 1), minutes=-55),
                discharged_at=now - dt.timedelta(days=2 * (count - n + 1), minutes=-130),
            )
            for n in range(1, count + 1)
        ],
        batch_size=500,
    )
    rate = Decimal("0.875")
    events, readings, alerts, discharges = [], [], [], []
    for session in sessions:
        start = session.dose_started_at
        events += [
            InfusionEvent(session=session, kind="start", rate_mg_per_min=rate, at=start),
            InfusionEvent(session=session, kind="stop", at=session.dose_ended_at),
        ]
        readings += [
            VitalReading(
                session=session,
                source="device",
                at=start + dt.timedelta(minutes=10 * k - 10),
                systolic_mmhg=124 + min(k, 5) * 3,
                diastolic_mmhg=78 + min(k, 5) * 2,
                heart_rate_bpm=72 + k,
                spo2_pct=97,
                resp_rate_per_min=14,
            )
            for k in range(12)
        ]
        discharges.append(
            Discharge(
                session=session,
                criteria={"vitals_at_baseline": True, "alert_oriented": True},
                instructions="No driving for the rest of the day.",
                signed_by=nurse,
                signed_at=session.discharged_at,
                observation_minutes=75,
            )
        )
    InfusionEvent.objects.bulk_create(events, batch_size=1000)
    stored = VitalReading.objects.bulk_create(readings, batch_size=1000)
    for index, session in enumerate(sessions):
        if index % 10 == 0:
            reading = stored[index * 12 + 5]
            alerts.append(
                SafetyAlert(
                    session=session,
                    reading=reading,
                    code="bp_high",
                    level="warning",
                    action="recheck in 5 min",
                    basis="Default clinic policy [U]",
                    finding="systolic_mmhg 181 >= 180",
                    raised_at=reading.at,
                    acknowledged_by=nurse,
                    acknowledged_at=reading.at + dt.timedelta(minutes=2),
                    action_taken="Rechecked; infusion slowed.",
                )
            )
    SafetyAlert.objects.bulk_create(alerts)
    Discharge.objects.bulk_create(discharges, batch_size=500)
    return sessions


def bench_pages() -> list[dict]:
    from ketaclinic.charting.tests.floor import plan_for
    from ketaclinic.conftest import make_patient, signed_in

    prescriber, nurse = cast()
    client = signed_in(nurse)
    rows = []
    for count in (10, 1000):
        patient = make_patient("Bench", f"History{count}")
        plan = plan_for(patient, prescriber)
        sessions = past_sessions(patient, plan, nurse, count)
        latest = sessions[-1]
        for page, url in (
            ("patient chart (summary)", f"/patients/{patient.pk}/"),
            ("patient chart, Sessions tab", f"/patients/{patient.pk}/tab/sessions/"),
            ("session page (latest session)", f"/sessions/{latest.pk}/"),
        ):
            rows.append({"page": page, "sessions": count} | timed(client, url))
    rows.sort(key=lambda r: (r["page"], r["sessions"]))
    return rows


def furnish_floor(prescriber, nurse, chairs: int, minutes: int) -> list:
    """``chairs`` running IV sessions with ``minutes`` of one-minute device readings each."""
    from django.utils import timezone

    from ketaclinic.charting.models import SafetyAlert, VitalReading
    from ketaclinic.charting.tests.floor import floor_of

    sessions = floor_of(chairs, prescriber, nurse, opened_minutes_ago=minutes + 20)
    now = timezone.now()
    VitalReading.objects.bulk_create(
        [
            VitalReading(
                session=session,
                source="device",
                at=now - dt.timedelta(minutes=minutes - m),
                heart_rate_bpm=70 + m % 9,
                spo2_pct=97,
                resp_rate_per_min=14,
                **({"systolic_mmhg": 130 + m % 7, "diastolic_mmhg": 82} if m % 5 == 0 else {}),
            )
            for session in sessions
            for m in range(minutes)
        ],
        batch_size=1000,
    )
    SafetyAlert.objects.bulk_create(
        [
            SafetyAlert(
                session=session,
                code="bp_high",
                level="warning",
                action="recheck in 5 min",
                basis="Default clinic policy [U]",
                finding="systolic_mmhg 182 >= 180",
                raised_at=now - dt.timedelta(minutes=3),
            )
            for session in sessions[::4]
        ]
    )
    return sessions


def bench_board() -> list[dict]:
    from ketaclinic.conftest import signed_in

    prescriber, nurse = cast()
    furnish_floor(prescriber, nurse, chairs=20, minutes=60)
    client = signed_in(nurse)
    return [
        {"request": "board poll (rows partial)"} | timed(client, "/board/", HX_Request="true"),
        {"request": "board page"} | timed(client, "/board/"),
    ]


def checkpoint_own_pages(connection) -> None:
    """SQLite: copy the WAL back into the database now, on the clock of the side that wrote it.

    Otherwise whichever side happens to cross SQLite's 1,000-page auto-checkpoint pays for
    both sides' pages, and the ratio flips between about 50% and 75% from run to run.
    PostgreSQL checkpoints in the background, outside either side's requests.
    """
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")


def bench_ingestion() -> dict:
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from ketaclinic.charting.management.commands.simulate_monitor import simulated_readings
    from ketaclinic.charting.models import TreatmentSession, VitalReading
    from ketaclinic.charting.tests.floor import floor_of, monitor_in

    prescriber, nurse = cast()
    minutes = BATCH * BATCHES_PER_SESSION
    TreatmentSession.objects.active().update(status="discharged")  # the board's floor leaves
    api_sessions = floor_of(
        INGEST_SESSIONS, prescriber, nurse, room="Ingestion suite", opened_minutes_ago=minutes + 5
    )
    # Plain inserts go to twin sessions, so neither side's rows weigh on the other.
    plain_sessions = [
        TreatmentSession.objects.create(
            patient_id=s.patient_id,
            plan_id=s.plan_id,
            route=s.route,
            protocol_code=s.protocol_code,
            drug=s.drug,
            planned_dose_mg=s.planned_dose_mg,
            status="discharged",
            nurse=nurse,
            opened_at=s.opened_at,
        ).pk
        for s in api_sessions
    ]
    tokens = {s.pk: monitor_in(s.chair)[1] for s in api_sessions}
    now = timezone.now()
    work = []  # (session, batch number, [(taken_at, values)])
    for number, session in enumerate(api_sessions):
        run = simulated_readings(minutes=minutes - 1, interval_s=60, seed=number)
        start = now - dt.timedelta(minutes=minutes)
        timed_run = [(start + dt.timedelta(minutes=m), v) for m, v in run]
        for b in range(BATCHES_PER_SESSION):
            work.append((session, b, timed_run[b * BATCH : (b + 1) * BATCH]))
    work.sort(key=lambda item: item[1])  # oldest batch of every session first, as monitors send
    client = Client()
    client.get("/api/v1/openapi.json")  # import the URL modules before the clock starts
    api_s = plain_s = 0.0
    # As timeit does: no cyclic garbage collection on either clock. A full collection takes
    # milliseconds and falls on whichever side crosses the allocation threshold.
    gc.collect()
    gc.disable()
    api_queries = 0
    timed_batches = len(work) - 1  # the last batch is sent once more, untimed, to count queries
    for index, (session, _, batch) in enumerate(work):
        body = json.dumps(
            {"readings": [{"taken_at": at.isoformat(), **values} for at, values in batch]}
        )
        headers = {
            "Authorization": f"Bearer {tokens[session.pk]}",
            "Idempotency-Key": uuid.uuid4().hex,
        }
        last = index == len(work) - 1
        # Queries are counted on the last batch only, untimed: capturing them swaps in
        # Django's debug cursor, which quotes every parameter with an extra query.
        with CaptureQueriesContext(connection) if last else nullcontext() as queries:
            start = time.perf_counter()
            response = client.post(
                f"/api/v1/sessions/{session.pk}/vitals",
                body,
                content_type="application/json",
                headers=headers,
            )
        checkpoint_own_pages(connection)
        elapsed = time.perf_counter() - start
        if response.status_code != 201 or response.json()["stored"] != len(batch):
            raise RuntimeError(f"ingestion answered {response.status_code}: {response.content!r}")
        if last:
            api_queries = len(queries)
        else:
            api_s += elapsed
        if last:
            break  # the plain side times the same batches as the API side
        twin = plain_sessions[api_sessions.index(session)]
        start = time.perf_counter()
        with transaction.atomic():
            VitalReading.objects.bulk_create(
                [
                    VitalReading(session_id=twin, source="device", at=at, **values)
                    for at, values in batch
                ]
            )
        checkpoint_own_pages(connection)
        plain_s += time.perf_counter() - start
    gc.enable()
    total = sum(len(batch) for *_, batch in work[:timed_batches])
    return {
        "readings": total,
        "api_rate": total / api_s,
        "api_ms_per_batch": api_s * 1000 / timed_batches,
        "api_queries": api_queries,
        "plain_rate": total / plain_s,
        "plain_ms_per_batch": plain_s * 1000 / timed_batches,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        sys.path.insert(0, str(ROOT))
        child(arguments.child)
        sys.exit(0)
    sys.exit(main())
