"""Session-length benchmark (issue #15): the session page and its poll, the board and the
board poll with 10 and with 7,200 readings a session (a monitor at 1 Hz for two hours).

Run with ``.venv/bin/python bench/session_growth.py`` (or ``make bench``). Never part of the
suite. A scratch SQLite database (removed afterwards) holds a floor of ``--chairs`` running IV
sessions (default 20), first with 10 device readings each, then topped up to 7,200 each.
Server time p50/p95 over ``--requests`` requests through Django's test client in-process, and
the SQL query count of each request. Target: the same query count at both sizes, and p95 at
7,200 readings at most 1.2x p95 at 10.

The polls are measured twice: a client that already holds the current version (answered 204,
nothing rendered) and one that does not (the session's vitals and alerts panels, the board's
rows). ``--only session`` (or ``board``) measures only the requests naming it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = (10, 7200)
GROWTH_TARGET = 1.2


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chairs", type=int, default=20)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--only", default="", help="measure only requests naming this")
    parser.add_argument(
        "--sizes",
        default=",".join(map(str, SIZES)),
        help="readings a session, smallest first (growth: first to last)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.chairs, args.requests, args.only, sizes_of(args.sizes))
        return 0
    print(f"machine: {os.cpu_count()} cores, {cpu_model()}, python {platform.python_version()}")
    print(f"load average (1/5/15): {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    scratch = Path(tempfile.mkdtemp(prefix="kc-bench-growth-"))
    try:
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SQLITE_PATH"}}
        env |= {
            "DJANGO_SETTINGS_MODULE": "ketaclinic.settings",
            "KETACLINIC_VAR_DIR": str(scratch),
            "SQLITE_PATH": str(scratch / "bench.sqlite3"),
            "PYTHONPATH": str(ROOT),
        }
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                "--chairs",
                str(args.chairs),
                "--requests",
                str(args.requests),
                "--only",
                args.only,
                "--sizes",
                args.sizes,
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            print(out.stderr[-4000:])
            return 1
        rows = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report(rows, args.chairs, sizes_of(args.sizes))
    return 0


def sizes_of(text: str) -> tuple[int, ...]:
    return tuple(sorted(int(size) for size in text.split(",")))


def report(rows: list[dict], chairs: int, sizes: tuple[int, ...]) -> None:
    print(f"\nSQLite, {chairs} running sessions; server time in ms")
    print(
        f"  {'request':<34}{'readings':>9}{'p50':>8}{'p95':>8}{'cpu':>7}{'queries':>9}{'bytes':>9}"
    )
    for row in rows:
        print(
            f"  {row['request']:<34}{row['readings']:>9}{row['p50']:>8.1f}{row['p95']:>8.1f}"
            f"{row['cpu']:>7.1f}{row['queries']:>9}{row['bytes']:>9}"
        )
    print("  (cpu: median CPU time of this process, which the other work on a busy machine")
    print("   disturbs less than the wall-clock times)")
    print(f"\ngrowth {sizes[0]:,} -> {sizes[-1]:,} readings (target: p95 x<=1.2, same queries)")
    by = {(r["request"], r["readings"]): r for r in rows}
    for name in dict.fromkeys(r["request"] for r in rows):
        small, large = by[(name, sizes[0])], by[(name, sizes[-1])]
        growth = large["p95"] / small["p95"] if small["p95"] else float("inf")
        cpu = large["cpu"] / small["cpu"] if small["cpu"] else float("inf")
        same = small["queries"] == large["queries"]
        met = "met" if growth <= GROWTH_TARGET and same else "MISSED"
        print(
            f"  {name:<34} x{growth:.2f} (cpu x{cpu:.2f})"
            f"  queries {small['queries']}->{large['queries']}  {met}"
        )


# ---------------------------------------------------------------- the child


def child(chairs: int, requests: int, only: str, sizes: tuple[int, ...]) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.WHITENOISE_USE_FINDERS = False
    call_command("migrate", verbosity=0)
    from ketaclinic.charting.session_record import current_marker
    from ketaclinic.charting.tests.floor import floor_of
    from ketaclinic.conftest import make_user, signed_in

    prescriber = make_user("prescriber", "prescriber", credentials="MD")
    nurse = make_user("nurse", "nurse", credentials="RN")
    sessions = floor_of(chairs, prescriber, nurse, opened_minutes_ago=130)
    client = signed_in(nurse)
    rows: list[dict] = []
    have = 0
    for size in sizes:
        add_readings(sessions, have, size)
        have = size
        first = sessions[0]

        def current(client=client) -> str:
            # The version also turns with the clock (board.VERSION_SECONDS): fetched afresh,
            # untimed, before each sample.
            polled = client.get("/board/", headers={"HX-Request": "true"})
            return "/board/?v=" + polled.headers.get("X-Board-Version", "none")

        def unchanged(session=first) -> str:
            # What the page's poll sends when nothing changed since it was drawn.
            return f"/sessions/{session.pk}/monitoring/?since={current_marker(session)}"

        for name, url, headers in (
            ("session page", f"/sessions/{first.pk}/", {}),
            ("session page, oldest flow page", f"/sessions/{first.pk}/?flow_page=9999", {}),
            ("session poll, changed", f"/sessions/{first.pk}/monitoring/?since=0", {}),
            ("session poll, unchanged (204)", unchanged, {}),
            ("board page", "/board/", {}),
            ("board poll, changed (rows)", "/board/", {"HX-Request": "true"}),
            ("board poll, unchanged (204)", current, {"HX-Request": "true"}),
        ):
            if only and only not in name:
                continue
            rows.append({"request": name, "readings": size} | timed(client, url, headers, requests))
    print(json.dumps(rows))


def add_readings(sessions, have: int, want: int) -> None:
    """One-second device readings, the newest now, a blood pressure every 5 minutes."""
    from django.utils import timezone

    from ketaclinic.charting.models import VitalReading

    now = timezone.now()
    batch = []
    for session in sessions:
        for n in range(have, want):
            at = now - dt.timedelta(seconds=n)
            batch.append(
                VitalReading(
                    session=session,
                    source="device",
                    at=at,
                    heart_rate_bpm=70 + n % 9,
                    spo2_pct=97,
                    resp_rate_per_min=14,
                    **(
                        {"systolic_mmhg": 128 + n % 7, "diastolic_mmhg": 80} if n % 300 == 0 else {}
                    ),
                )
            )
            if len(batch) >= 5000:
                VitalReading.objects.bulk_create(batch)
                batch = []
    VitalReading.objects.bulk_create(batch)


def timed(client, url, headers: dict, requests: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def where() -> str:
        return url() if callable(url) else url

    for _ in range(3):
        response = client.get(where(), headers=headers)  # warm caches
    samples, cpu = [], []
    for _ in range(requests):
        target = where()
        start, start_cpu = time.perf_counter(), time.process_time()
        client.get(target, headers=headers)
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    target = where()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(target, headers=headers)
    samples.sort()
    return {
        "status": response.status_code,
        "p50": statistics.median(samples),
        "p95": samples[round(0.95 * (len(samples) - 1))],
        "cpu": statistics.median(cpu),
        "queries": len(queries),
        "bytes": len(response.content),
    }


if __name__ == "__main__":
    sys.exit(main())
