"""The patient record's vocabularies and plausibility limits, loaded once from ``data/``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

import yaml

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Icd10Code:
    code: str
    display: str
    indication: str | None


@dataclass(frozen=True)
class Range:
    min: Decimal
    max: Decimal
    source: str

    def contains(self, value) -> bool:
        return self.min <= Decimal(value) <= self.max

    def describe(self, unit: str) -> str:
        return f"{self.min:g}–{self.max:g} {unit}"


def load(name: str) -> dict:
    with (DATA / name).open() as handle:
        return yaml.safe_load(handle)


@cache
def icd10_codes() -> dict[str, Icd10Code]:
    return {row["code"]: Icd10Code(**row) for row in load("icd10.yaml")["codes"]}


@cache
def medication_classes() -> dict[str, dict]:
    return {row["code"]: row for row in load("medication_classes.yaml")["classes"]}


@cache
def limits() -> dict:
    return load("record_limits.yaml")


def record_range(name: str) -> Range:
    row = limits()[name]
    return Range(Decimal(str(row["min"])), Decimal(str(row["max"])), row["source"])


def earliest_birth_date() -> dt.date:
    value = limits()["date_of_birth"]["earliest"]
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
