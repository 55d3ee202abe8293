"""Plan page with its concentration band: server time over repeated requests (issue #7).

Builds a scratch SQLite clinic in a temporary folder, signs a plan for a demo patient, then
renders the plan page 30 times with Django's test client. Run: ``python bench/plan_page.py``.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SCRATCH = tempfile.mkdtemp(prefix="kc-bench-plan-")
os.environ.update(
    DJANGO_SETTINGS_MODULE="ketaclinic.settings",
    KETACLINIC_VAR_DIR=SCRATCH,
    SQLITE_PATH=str(Path(SCRATCH) / "bench.sqlite3"),
)
os.environ.pop("DATABASE_URL", None)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from ketaclinic.accounts.models import User  # noqa: E402
from ketaclinic.plans.models import TreatmentPlan  # noqa: E402

REQUESTS = 30
TARGET_MS = 200


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def main() -> None:
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as sink:
        call_command("demo", "--quiet-logins", stdout=sink)
    plan = TreatmentPlan.objects.filter(status="active", route="iv").first()
    if plan is None:
        print("no active IV plan in the demo clinic; nothing to measure")
        return
    client = Client()
    client.force_login(User.objects.get(username="prescriber"))
    url = f"/patients/{plan.patient_id}/plans/{plan.pk}/"
    client.get(url)  # warm caches
    times = []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    p50, p95 = statistics.median(times), sorted(times)[int(0.95 * (REQUESTS - 1))]
    print(f"machine: {os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}")
    print(f"{'page':<38}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}  target")
    verdict = "met" if p95 < TARGET_MS else "MISSED"
    print(
        f"{'plan page with 1,000-patient band':<38}{p50:>9.1f}{p95:>9.1f}{len(queries):>9}  p95 < {TARGET_MS} ms: {verdict}"
    )


if __name__ == "__main__":
    main()
