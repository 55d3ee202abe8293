"""Benchmark of the PK engine: exact superposition vs PyTCI, and population prediction speed.

Run with ``.venv/bin/python bench/pk.py`` (or ``make bench``). Never part of the test suite.

1. One simulated patient: Domino 1984 three-compartment model, 0.5 mg/kg over 40 min at 70 kg
   (REFERENCE.md section 6 check regimen), plasma concentration every second for 4 hours
   (14,401 points). ``ketaclinic.pk.predict`` against PyTCI's ``Three`` engine loaded with the
   same parameters and stepped second by second, with its exact (matrix exponential) integrator
   and with its legacy Euler default. Target: ours at least 100x faster.
2. ``ketaclinic.pk.predict_population`` with n = 1,000 virtual patients on a 1-minute grid over
   4 hours. Target: under 25 ms.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import numpy as np

from ketaclinic.pk import predict, predict_population
from ketaclinic.pk.tests.pytci_model import PublishedKetamine

MODEL = "domino_1984"
WEIGHT_KG = 70.0
DOSE_MG = 0.5 * WEIGHT_KG
INFUSION_S = 40 * 60
HORIZON_S = 4 * 3600
REGIMEN = [{"route": "iv", "dose_mg": DOSE_MG, "start_min": 0, "duration_min": INFUSION_S / 60}]
SECOND_GRID_MIN = np.arange(HORIZON_S + 1) / 60.0
MINUTE_GRID_MIN = np.arange(0, 241, dtype=float)
POPULATION_N = 1_000


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


def timings_s(run: Callable[[], object], repeats: int) -> list[float]:
    run()  # warm caches (absorption rates, PyTCI transition matrices, imports)
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return samples


def pytci_patient(integrator: str) -> np.ndarray:
    patient = PublishedKetamine(MODEL, WEIGHT_KG)
    patient.set_integrator(integrator)
    rate_ug_per_s = DOSE_MG * 1000.0 / INFUSION_S
    out = np.empty(HORIZON_S + 1)
    out[0] = patient.x1
    for second in range(1, HORIZON_S + 1):
        if second <= INFUSION_S:
            patient.giveoverseconds(rate_ug_per_s, 1)
        else:
            patient.wait_time(1)
        out[second] = patient.x1
    return out


def ours_patient() -> np.ndarray:
    return predict(MODEL, WEIGHT_KG, REGIMEN, SECOND_GRID_MIN)


def percentile(samples: list[float], q: float) -> float:
    return float(np.percentile(samples, q))


def print_machine() -> None:
    print("machine")
    print(f"  cores (os.cpu_count)   {os.cpu_count()}")
    print(f"  CPU model              {cpu_model()}")
    print(f"  python                 {platform.python_version()} ({platform.machine()})")
    print(f"  numpy / scipy / PyTCI  {np.__version__} / {version('scipy')} / {version('PyTCI')}")
    print(f"  load average (1/5/15)  {load_average()}  (other work on the machine skews timings)")
    print()


def bench_single_patient() -> bool:
    ours = ours_patient()
    exact = pytci_patient("exact")
    euler = pytci_patient("euler")
    ours_s = timings_s(ours_patient, 200)
    exact_s = timings_s(lambda: pytci_patient("exact"), 7)
    euler_s = timings_s(lambda: pytci_patient("euler"), 7)
    ours_us = statistics.median(ours_s) * 1e6
    print(
        f"1. one patient: {MODEL}, {DOSE_MG:g} mg over {INFUSION_S // 60} min at {WEIGHT_KG:g} kg, "
        f"1-s grid over 4 h ({SECOND_GRID_MIN.size:,} points)"
    )
    print(f"  {'engine':34s} {'median us/patient':>18s} {'p95 us':>10s} {'ours faster by':>15s}")
    rows = [
        ("ketaclinic.pk.predict (exact)", ours_s, ours),
        ("PyTCI Three, exact integrator", exact_s, exact),
        ("PyTCI Three, euler (its default)", euler_s, euler),
    ]
    for name, samples, _ in rows:
        median_us = statistics.median(samples) * 1e6
        print(
            f"  {name:34s} {median_us:18,.1f} {percentile(samples, 95) * 1e6:10,.1f} "
            f"{median_us / ours_us:14,.1f}x"
        )
    for name, _, curve in rows[1:]:
        gap = np.max(np.abs(curve - ours) / np.maximum(ours, 1e-12))
        print(f"  max relative difference vs {name}: {gap:.2e}")
    ratio = statistics.median(exact_s) / statistics.median(ours_s)
    met = ratio >= 100
    print(
        f"  speed ratio vs PyTCI exact: {ratio:,.0f}x (target >= 100x: {'met' if met else 'MISSED'})"
    )
    print()
    return met


def bench_population() -> bool:
    print(
        f"2. predict_population: n = {POPULATION_N:,}, 1-min grid over 4 h "
        f"({MINUTE_GRID_MIN.size} points), 50 runs"
    )
    print(f"  {'model':16s} {'p50 ms':>8s} {'p95 ms':>8s}")
    met = True
    for model in ("clements_1981", "domino_1984"):
        seeds = iter(range(10_000))
        samples = timings_s(
            lambda model=model, seeds=seeds: predict_population(
                model, WEIGHT_KG, REGIMEN, MINUTE_GRID_MIN, n=POPULATION_N, seed=next(seeds)
            ),
            50,
        )
        p50_ms, p95_ms = percentile(samples, 50) * 1e3, percentile(samples, 95) * 1e3
        met = met and p50_ms < 25
        print(f"  {model:16s} {p50_ms:8.2f} {p95_ms:8.2f}")
    print(f"  target p50 < 25 ms: {'met' if met else 'MISSED'}")
    return met


def main() -> int:
    # A missed target is printed, not turned into a failing exit code: wall-clock figures
    # depend on the machine, and `make bench` should report them rather than stop.
    print_machine()
    bench_single_patient()
    bench_population()
    return 0


if __name__ == "__main__":
    sys.exit(main())
