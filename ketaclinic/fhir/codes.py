"""The codes the FHIR face emits, read once from ``data/codes.yaml`` (each names its source)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).parent / "data" / "codes.yaml"


@cache
def table() -> dict[str, Any]:
    return yaml.safe_load(DATA.read_text())


def system(name: str) -> str:
    return table()["systems"][name]


def vital(name: str) -> dict[str, str]:
    return table()["vital_signs"][name]


def loinc(entry: dict[str, str]) -> dict[str, str]:
    """A LOINC Coding from a table entry with ``code`` and ``display``."""
    return {"system": system("loinc"), "code": entry["code"], "display": entry["display"]}


def instrument(code: str) -> dict[str, Any] | None:
    """Panel and total codes of an instrument, or None where no code was verified."""
    entry = table()["instruments"].get(code)
    return entry if isinstance(entry, dict) and "total" in entry else None


def instruments_with_total(system_url: str | None, code: str) -> list[str]:
    """The instruments whose total score carries ``system|code``."""
    if system_url not in (None, "", system("loinc")):
        return []
    return [
        name
        for name, entry in table()["instruments"].items()
        if isinstance(entry, dict) and entry.get("total", {}).get("code") == code
    ]
