"""The condition list of the public request form, loaded once from ``data/conditions.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Condition:
    code: str
    label: str
    indication: str | None  # the screening indication code, when there is one


@cache
def conditions() -> dict[str, Condition]:
    with (DATA / "conditions.yaml").open() as handle:
        rows = yaml.safe_load(handle)["conditions"]
    return {row["code"]: Condition(**row) for row in rows}


def label_of(code: str) -> str:
    found = conditions().get(code)
    return found.label if found else code
