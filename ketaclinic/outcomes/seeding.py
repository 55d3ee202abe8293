"""Seed the clinic's instrument definitions (database) from the shipped ``instruments/*.yaml``.

Adds the shipped definitions the database lacks and never touches one it has: a clinic's
edits (a newer version it loaded, a retired instrument) win over the shipped files. Runs from
a data migration, from the demo loader and, lazily, whenever a shipped code is looked up and
missing (tests that flush the database).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .definitions import INSTRUMENTS_DIR, parse_instrument


def shipped_definitions() -> list[dict[str, Any]]:
    """The raw shipped definitions, each validated by ``parse_instrument``."""
    raws = []
    for path in sorted(Path(INSTRUMENTS_DIR).glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        parse_instrument(raw, origin=path.name)
        raws.append(raw)
    return raws


def seed_instruments(model=None) -> list[str]:
    """Create the shipped definitions missing from the database; the codes created."""
    if model is None:
        from .models import InstrumentDefinition as model

    existing = set(model.objects.values_list("code", flat=True))
    created = []
    for raw in shipped_definitions():
        if raw["code"] in existing:
            continue
        model.objects.create(
            code=raw["code"],
            name=raw["name"],
            version=raw["version"],
            status=raw["status"],
            rater=raw["rater"],
            origin="shipped",
            definition=raw,
        )
        created.append(raw["code"])
    return created
