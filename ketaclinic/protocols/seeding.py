"""Seed the clinic's protocol catalog (database) from the shipped ``protocols.yaml``.

Adds the shipped protocols the database lacks and never touches one it has: a clinic's edits
win over a newer shipped file. The first shipped protocol of each route becomes that route's
default unless the route already has one. Runs from a data migration (so the catalog exists
right after ``migrate``), from ``manage.py seed_protocols`` and from the demo loader.
"""

from __future__ import annotations

import re
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


# How citations read before they named their studies and labels: "seed 000", "seeds 000, 002",
# "REFERENCE.md section 1", an evidence tag such as "[V]". Words people should never see.
OLD_CITATION = re.compile(r"\bseeds? \d{3}|REFERENCE\.md|\[[A-Z]\]")
CITATION_TEXT_FIELDS = (
    "sources",
    "dose_sources",
    "default_mg_per_kg_sources",
    "allowed_mg_per_kg_sources",
    "allowed_fixed_mg_sources",
    "infusion_default_sources",
    "infusion_minutes_sources",
    "older_adult_sources",
)
CITATION_JSON_FIELDS = ("fasting", "monitoring", "phases")


def reworded(stored: Any, shipped: Any) -> Any:
    """``stored`` with each string still citing the old way replaced by the shipped one.

    Walks both structures together; anything else (numbers, a clinic's own wording, a part
    the shipped file no longer has) is kept as stored.
    """
    if isinstance(stored, str):
        old = OLD_CITATION.search(stored) and isinstance(shipped, str)
        return shipped if old else stored
    if isinstance(stored, dict) and isinstance(shipped, dict):
        return {k: reworded(v, shipped[k]) if k in shipped else v for k, v in stored.items()}
    if isinstance(stored, list) and isinstance(shipped, list) and len(stored) == len(shipped):
        return [reworded(a, b) for a, b in zip(stored, shipped, strict=True)]
    return stored


def reword_shipped_citations(model=None) -> list[str]:
    """Bring shipped protocols' citations stored the old way up to the shipped words.

    Only citation text that still names a seed, REFERENCE.md or an evidence tag changes;
    doses, rules and a clinic's own wording stay as they are. Returns the codes changed.
    """
    if model is None:
        from .models import Protocol as model
    from .models import seed_values

    fields = {field.name for field in model._meta.get_fields()}
    changed = []
    for raw in shipped_entries():
        row = model.objects.filter(code=raw["code"]).first()
        if row is None:
            continue
        shipped = seed_values(raw)
        names = [n for n in CITATION_TEXT_FIELDS + CITATION_JSON_FIELDS if n in fields]
        updates = {n: reworded(getattr(row, n), shipped.get(n)) for n in names}
        updates = {n: v for n, v in updates.items() if v != getattr(row, n)}
        if updates:
            model.objects.filter(pk=row.pk).update(**updates)
            changed.append(row.code)
    return changed
