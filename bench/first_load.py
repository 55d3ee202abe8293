"""First load of the chart pages in a real browser (issue #15): cold cache, time to the chart.

Run with ``.venv/bin/python bench/first_load.py`` (or ``make bench``). Never part of the
suite. In a scratch directory (removed afterwards) it migrates a SQLite database, loads the
demo clinic (``manage.py demo``), collects the static files as production does (manifest
storage, Brotli and gzip), and serves it with gunicorn on loopback. Then Debian's Chromium
(Playwright) opens each page ``--repeats`` times, each time in a new browser context (an
empty HTTP cache, signed in from saved cookies), and times from navigation to the first
``.main-svg`` (Plotly's drawn chart) in the page:

* the plan page of a patient with an active plan (prescriber),
* the session page of a session whose dosing started (the predicted-concentration panel),
* the Outcomes tab of a patient with questionnaires (prescriber),
* the outcomes dashboard (clinic admin).

Target: < 1 s each. Prints the figures with the machine they were taken on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
CHROMIUM = "/usr/bin/chromium"
TARGET_MS = 1000

FIND_PAGES = """
import json
from ketaclinic.charting.models import TreatmentSession
from ketaclinic.demo.clinic import DEMO_PASSWORD
from ketaclinic.outcomes.models import Response
from ketaclinic.plans.models import TreatmentPlan
plan = TreatmentPlan.objects.filter(status="active").exclude(weight_kg=None).first() or \\
    TreatmentPlan.objects.filter(status="active").first()
session = TreatmentSession.objects.exclude(dose_started_at=None).order_by("-dose_started_at").first()
answered = Response.objects.values_list("patient_id", flat=True).first()
print(json.dumps({
    "password": DEMO_PASSWORD,
    "plan": f"/patients/{plan.patient_id}/plans/{plan.pk}/",
    "session": f"/sessions/{session.pk}/",
    "outcomes": f"/patients/{answered}/tab/outcomes/",
}))
"""


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def wait_for(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="kc-bench-first-load-"))
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY"}}
    env |= {
        "DJANGO_SETTINGS_MODULE": "ketaclinic.settings",
        "KETACLINIC_VAR_DIR": str(scratch),
        "SQLITE_PATH": str(scratch / "demo.sqlite3"),
        "STATIC_ROOT": str(scratch / "static"),
        "STATIC_MANIFEST": "1",  # hashed, compressed files, as in production
        "DEBUG": "0",
    }
    server = None
    try:
        started = time.perf_counter()
        manage(env, "migrate", "--noinput")
        manage(env, "demo", "--quiet-logins")
        manage(env, "collectstatic", "--noinput")
        pages = json.loads(manage(env, "shell", "-c", FIND_PAGES).strip().splitlines()[-1])
        print(f"demo clinic loaded and static collected in {time.perf_counter() - started:.0f} s")
        port = free_port()
        server = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "gunicorn",
                "ketaclinic.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--threads",
                "2",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        wait_for(port)
        results = measure(f"http://127.0.0.1:{port}", pages, args.repeats)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        shutil.rmtree(scratch, ignore_errors=True)
    report(results, args)
    return 0


def measure(base: str, pages: dict, repeats: int) -> list[dict]:
    from playwright.sync_api import sync_playwright

    plan = [
        ("plan page", "prescriber", pages["plan"]),
        ("session page", "nurse", pages["session"]),
        ("Outcomes tab", "prescriber", pages["outcomes"]),
        ("dashboard", "admin", "/dashboard/"),
    ]
    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--disable-gpu", "--no-first-run"]
        )
        states = {}
        for _, user, _ in plan:
            if user not in states:
                states[user] = signed_in_state(browser, base, user, pages["password"])
        for name, user, url in plan:
            samples, transferred = [], 0
            for _ in range(repeats):
                context = browser.new_context(base_url=base, storage_state=states[user])
                page = context.new_page()
                sizes = []
                page.on("response", lambda r, sizes=sizes: sizes.append(r))
                start = time.perf_counter()
                page.goto(url, wait_until="commit")
                page.wait_for_selector(".main-svg", timeout=30_000)
                samples.append((time.perf_counter() - start) * 1000)
                transferred = sum(encoded_size(r) for r in sizes)
                context.close()
            samples.sort()
            rows.append(
                {
                    "page": name,
                    "median": statistics.median(samples),
                    "max": samples[-1],
                    "kb": transferred / 1024,
                }
            )
        browser.close()
    return rows


def encoded_size(response) -> int:
    try:
        return int(response.all_headers().get("content-length") or 0)
    except Exception:  # a response without headers (aborted): nothing counted
        return 0


def signed_in_state(browser, base: str, username: str, password: str) -> dict:
    context = browser.new_context(base_url=base)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")
    state = context.storage_state()
    context.close()
    return state


def report(rows: list[dict], args) -> None:
    print(f"machine: {os.cpu_count()} cores (nproc), {cpu_model()}")
    print(f"load average (1/5/15): {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"gunicorn {args.workers} workers x 2 threads, SQLite demo clinic; Chromium, new "
        f"context (cold cache) each load, {args.repeats} loads a page"
    )
    print(f"  {'page':<16}{'median ms':>10}{'max ms':>9}{'KB sent':>9}  target < {TARGET_MS} ms")
    for row in rows:
        met = "met" if row["median"] < TARGET_MS else "MISSED"
        print(
            f"  {row['page']:<16}{row['median']:>10.0f}{row['max']:>9.0f}{row['kb']:>9.0f}  {met}"
        )


if __name__ == "__main__":
    sys.exit(main())
