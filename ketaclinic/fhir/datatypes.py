"""FHIR data types built from the clinic's values: references, instants, quantities, codes.

Every resource module builds with these; ``clean`` drops the empty values FHIR forbids.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from . import codes


def ref(resource_type: str, resource_id: Any, display: str = "") -> dict:
    out = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        out["display"] = display
    return out


def instant(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def meta(updated: dt.datetime | None) -> dict:
    return {"lastUpdated": instant(updated)} if updated else {}


def number(value: Decimal | int | float) -> int | float:
    """A JSON number: integers stay integers, decimals become floats (FHIR decimal)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def quantity(value, unit_entry: dict[str, str]) -> dict:
    return {
        "value": number(value),
        "unit": unit_entry["human"],
        "system": codes.system("ucum"),
        "code": unit_entry["unit"],
    }


def mg(value) -> dict:
    return {"value": number(value), "unit": "mg", "system": codes.system("ucum"), "code": "mg"}


def concept(system_name: str, code: str, display: str = "") -> dict:
    coding = {"system": codes.system(system_name), "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def clean(resource: dict) -> dict:
    """Drop empty values: FHIR forbids empty strings, lists and objects.

    Hot in bulk export (every node of every resource): exact type checks and no ``in``
    against a tuple of containers keep it ~15% of the export's time cheaper (bench)."""
    out = {}
    for key, value in resource.items():
        kind = type(value)
        if kind is dict:
            value = clean(value)
            if not value:
                continue
        elif kind is list:
            value = [clean(v) if type(v) is dict else v for v in value]
            value = [v for v in value if not _empty(v)]
            if not value:
                continue
        elif value is None or value == "":
            continue
        out[key] = value
    return out


def _empty(value) -> bool:
    if value is None or value == "":
        return True
    return type(value) in (dict, list) and not value


def patient_ref(obj) -> dict:
    return ref("Patient", obj.patient_id)
