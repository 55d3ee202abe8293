"""Benchmark of the outcomes dashboard on a 20,000-patient demo clinic.

Run with ``.venv/bin/python bench/dashboard.py`` (or ``make bench``). Never part of the test
suite. Builds a scratch SQLite database in a temporary directory, migrates it, loads
``manage.py demo --patients 20000`` (a multi-year cohort: ~21,000 courses, ~140,000 sessions,
~210,000 questionnaires), then as a signed-in clinic admin:

1. renders ``/dashboard/`` repeatedly (no filter: the whole cohort, the worst case) and with
   one filter, reporting p50/p95 wall time and the number of queries per request;
2. times the cohort CSV export.

Target: dashboard p50 under 1 s. Environment:

* ``BENCH_PATIENTS`` (default 20000), ``BENCH_REPEATS`` (default 15);
* ``BENCH_DB=/path/file.sqlite3`` reuses (or keeps) a database instead of a temporary one;
* ``DATABASE_URL`` benchmarks PostgreSQL instead (the database must exist and be empty or
  already loaded).
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCRATCH = tempfile.mkdtemp(prefix="ketaclinic-bench-")
os.environ.setdefault("KETACLINIC_VAR_DIR", SCRATCH)
if "DATABASE_URL" not in os.environ:
    os.environ["SQLITE_PATH"] = os.environ.get("BENCH_DB") or str(Path(SCRATCH) / "bench.sqlite3")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketaclinic.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

PATIENTS = int(os.environ.get("BENCH_PATIENTS", 20_000))
REPEATS = int(os.environ.get("BENCH_REPEATS", 15))


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
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def timed_requests(client: Client, url: str, repeats: int):
    """Wall and CPU times (s) of ``repeats`` GETs after one warm-up, queries and body size.

    CPU time is this process's (SQLite runs in it): on a shared machine the wall time also
    counts waiting for a core, the CPU time does not.
    """
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    samples, cpu = [], []
    queries = 0
    size = 0
    for _ in range(repeats):
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            body = response.content if not response.streaming else b"".join(response)
            samples.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(captured.captured_queries)
        size = len(body)
    return samples, cpu, queries, size


def row(label: str, samples: list[float], cpu: list[float], queries: int, size: int) -> str:
    p50 = statistics.median(samples)
    p95 = float(np.percentile(samples, 95))
    return (
        f"{label:<38} {p50 * 1000:>8.0f} {p95 * 1000:>8.0f} {min(samples) * 1000:>8.0f}"
        f" {statistics.median(cpu) * 1000:>8.0f} {queries:>8} {size / 1024:>9.0f}"
    )


def main() -> int:
    from ketaclinic.accounts.models import User
    from ketaclinic.charting.models import TreatmentSession
    from ketaclinic.outcomes.models import Response
    from ketaclinic.patients.models import Patient
    from ketaclinic.plans.models import TreatmentPlan

    engine = connection.vendor
    print(f"database: {engine} ({connection.settings_dict['NAME']})")
    call_command("migrate", verbosity=0)
    have = Patient.objects.count()
    if have < PATIENTS:
        start = time.perf_counter()
        call_command("demo", "--patients", str(PATIENTS), "--quiet-logins", verbosity=0)
        print(f"loaded the {PATIENTS}-patient demo in {time.perf_counter() - start:.0f} s")
    # Fresh statistics, as autovacuum (PostgreSQL) or a periodic ANALYZE (SQLite) would keep.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    counts = {
        "patients": Patient.objects.count(),
        "courses": TreatmentPlan.objects.exclude(signed_at=None).count(),
        "sessions": TreatmentSession.objects.count(),
        "questionnaires": Response.objects.count(),
    }
    settings.DEBUG = False
    client = Client()
    client.force_login(User.objects.get(username="admin"))

    results = [
        ("dashboard, whole cohort", "/dashboard/"),
        ("dashboard, TRD + IV", "/dashboard/?indication=trd&route=iv"),
        ("dashboard, one prescriber, 1 year", None),
        ("cohort CSV export, whole cohort", "/dashboard/cohort.csv"),
    ]
    prescriber = User.objects.get(username="prescriber")
    import datetime as dt

    from django.utils import timezone

    year_ago = (timezone.localdate() - dt.timedelta(days=365)).isoformat()
    results[2] = (results[2][0], f"/dashboard/?prescriber={prescriber.pk}&start={year_ago}")

    print()
    print("ketaclinic dashboard benchmark")
    print(
        f"python {platform.python_version()}, django {django.get_version()}, numpy {np.__version__}"
    )
    print(f"cpu: {cpu_model()} x {os.cpu_count()}, load average {load_average()}")
    print(", ".join(f"{k}: {v:,}" for k, v in counts.items()))
    print(f"requests per row: {REPEATS} after one warm-up")
    print()
    header = ["p50 ms", "p95 ms", "min ms", "cpu p50", "queries", "KiB"]
    print(f"{'request':<38} " + " ".join(f"{h:>8}" for h in header[:-1]) + f" {header[-1]:>9}")
    worst = worst_cpu = 0.0
    for label, url in results:
        repeats = max(3, REPEATS // 3) if url.endswith(".csv") else REPEATS
        samples, cpu, queries, size = timed_requests(client, url, repeats)
        print(row(label, samples, cpu, queries, size))
        if url.startswith("/dashboard/") and not url.endswith(".csv"):
            worst = max(worst, statistics.median(samples))
            worst_cpu = max(worst_cpu, statistics.median(cpu))
    print()
    verdict = "OK" if worst < 1.0 else "OVER TARGET"
    print(
        f"slowest dashboard p50: {worst * 1000:.0f} ms wall, {worst_cpu * 1000:.0f} ms CPU "
        f"(target < 1000 ms): {verdict}; load average now {load_average()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
