"""Seed appointment types and opening hours from the data files (missing rows only)."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

import yaml

DATA = Path(__file__).parent / "data"


@cache
def appointment_types() -> list[dict]:
    return yaml.safe_load((DATA / "appointment_types.yaml").read_text())["types"]


@cache
def policy() -> dict:
    return yaml.safe_load((DATA / "clinic_policy.yaml").read_text())


def policy_value(name: str) -> int:
    return int(policy()[name]["value"])


def seed(appointment_type_model, opening_hours_model) -> None:
    for row in appointment_types():
        appointment_type_model.objects.get_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "minutes": row["minutes"],
                "staff_role": row["staff_role"],
                "place": row["place"],
                "protocol_code": row.get("protocol", ""),
                "prescriber_on_site": row.get("prescriber_on_site", False),
                "sources": row["sources"],
            },
        )
    hours = policy()["opening_hours"]
    for weekday in hours["weekdays"]:
        opening_hours_model.objects.get_or_create(
            weekday=weekday,
            defaults={
                "opens_at": dt.time.fromisoformat(hours["opens"]),
                "closes_at": dt.time.fromisoformat(hours["closes"]),
            },
        )
