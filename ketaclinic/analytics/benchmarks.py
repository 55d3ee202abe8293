"""Published outcome benchmarks (``benchmarks.yaml``, REFERENCE.md §7) as frozen data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

BENCHMARKS_PATH = Path(__file__).resolve().parent / "benchmarks.yaml"

MEASURES = frozenset(
    {"response", "remission", "relapse", "worse", "si_any_reduction", "si_free", "still_responding"}
)


@dataclass(frozen=True)
class Figure:
    measure: str
    pct: float | None = None
    low_pct: float | None = None
    high_pct: float | None = None
    approximate: bool = False
    comparator: str | None = None
    comparator_pct: float | None = None
    timepoint: str | None = None
    instrument: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Claim:
    text: str
    source: str
    figures: tuple[Figure, ...]
    n: int | None = None
    route: str | None = None


@dataclass(frozen=True)
class Benchmark:
    code: str
    indication: str | None
    route: str | None
    regimen: str | None
    seed_claims: tuple[Claim, ...]
    published: tuple[Claim, ...]


def _figure(data: Mapping[str, Any], where: str) -> Figure:
    figure = Figure(**data)
    if figure.measure not in MEASURES:
        raise ValueError(f"{where}: unknown measure {figure.measure!r}")
    if (figure.pct is None) == (figure.low_pct is None and figure.high_pct is None):
        raise ValueError(f"{where}: give pct, or low_pct/high_pct, not both or neither")
    for value in (figure.pct, figure.low_pct, figure.high_pct, figure.comparator_pct):
        if value is not None and not 0 <= value <= 100:
            raise ValueError(f"{where}: {value} is not a percentage")
    return figure


def _claim(data: Mapping[str, Any], where: str) -> Claim:
    fields = dict(data)
    figures = fields.pop("figures")
    claim = Claim(
        figures=tuple(_figure(f, f"{where}.figures[{i}]") for i, f in enumerate(figures)),
        **fields,
    )
    # A number on the dashboard without its source is exactly what the design forbids.
    if not claim.text.strip() or not claim.source.strip():
        raise ValueError(f"{where}: every claim needs its text and source")
    return claim


def _benchmark(data: Mapping[str, Any], where: str) -> Benchmark:
    fields = dict(data)
    claims = {
        key: tuple(_claim(c, f"{where}.{key}[{i}]") for i, c in enumerate(fields.pop(key)))
        for key in ("seed_claims", "published")
    }
    return Benchmark(**fields, **claims)


def load_benchmarks(path: Path | str = BENCHMARKS_PATH) -> tuple[Benchmark, ...]:
    """Read and check ``benchmarks.yaml``; unknown or missing fields raise an error."""
    with Path(path).open(encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    try:
        benchmarks = tuple(
            _benchmark(entry, f"benchmarks[{i}]") for i, entry in enumerate(document["benchmarks"])
        )
    except (TypeError, KeyError) as error:
        raise ValueError(f"{Path(path).name}: malformed benchmark entry: {error}") from error
    codes = [b.code for b in benchmarks]
    if len(set(codes)) != len(codes):
        raise ValueError(f"{Path(path).name}: benchmark codes repeat")
    return benchmarks


@cache
def shipped_benchmarks() -> tuple[Benchmark, ...]:
    """The benchmarks shipped with ketaclinic, loaded once per process."""
    return load_benchmarks()


def benchmarks_for(indication: str, route: str | None = None) -> tuple[Benchmark, ...]:
    """Benchmarks for an indication; with ``route``, those for that route or for any route."""
    return tuple(
        b
        for b in shipped_benchmarks()
        if b.indication == indication and (route is None or b.route in (route, None))
    )
