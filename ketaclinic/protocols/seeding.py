"""Seed the clinic's protocol catalog (database) from the shipped ``protocols.yaml``.

Adds the shipped protocols the database lacks and never touches one it has: a clinic's edits
win over a newer shipped file. The first shipped protocol of each route becomes that route's
default unless the route already has one. Runs from a data migration (so the catalog exists
right after ``migrate``), from ``manage.py seed_protocols`` and from the demo loader.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

from . import catalog


def shipped_entries() -> list[dict[str, Any]]:
    """The raw protocol entries of the shipped file, after the catalog has validated it."""
    catalog.catalog()
    text = resources.files(__package__).joinpath("data", "protocols.yaml").read_text("utf-8")
    return yaml.safe_load(text)["protocols"]


def seed_protocols(model=None) -> list[str]:
    """Create the shipped protocols missing from the database; the codes created.

    ``model`` is the Protocol model class (a migration passes its historical model).
    """
    if model is None:
        from .models import Protocol as model
    from .models import seed_values

    fields = {field.name for field in model._meta.get_fields()}
    existing = set(model.objects.values_list("code", flat=True))
    defaults = set(model.objects.filter(default_for_route=True).values_list("route", flat=True))
    created: list[str] = []
    for position, raw in enumerate(shipped_entries()):
        if raw["code"] in existing:
            continue
        values = {name: value for name, value in seed_values(raw).items() if name in fields}
        if "default_for_route" in fields and raw["route"] not in defaults:
            values["default_for_route"] = True
            defaults.add(raw["route"])
        if "position" in fields:
            values["position"] = position
        model.objects.create(code=raw["code"], **values)
        created.append(raw["code"])
    return created
