"""The clinic's instrument definitions in the database: lookup, loading and retiring.

A clinic loads (or updates) a definition through the same validation as the shipped files
(``parse_instrument``); every load and status change is audited with the old and new
version. Shipped definitions missing from the database are seeded on first lookup.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ketaclinic.audit import trail
from ketaclinic.audit.trail import reject

from .definitions import DefinitionError, Instrument, UnknownInstrumentError, parse_instrument
from .models import DefinitionOrigin, DefinitionStatus, InstrumentDefinition
from .seeding import seed_instruments


def definition(code: str, *, usable_only: bool = True) -> InstrumentDefinition:
    """The clinic's definition for ``code``.

    Shipped definitions missing from the database (a flushed test database) are seeded on
    the way. Raises UnknownInstrumentError when the clinic has no such (active) instrument.
    """
    found = InstrumentDefinition.objects.filter(code=code).first()
    if found is None and seed_instruments():
        found = InstrumentDefinition.objects.filter(code=code).first()
    if found is None or (usable_only and found.status != DefinitionStatus.ACTIVE):
        raise UnknownInstrumentError(code)
    return found


def usable_definitions() -> dict[str, InstrumentDefinition]:
    definitions = {d.code: d for d in InstrumentDefinition.objects.usable()}
    if not definitions and seed_instruments():
        definitions = {d.code: d for d in InstrumentDefinition.objects.usable()}
    return definitions


def parse_definition_text(text: str) -> dict[str, Any]:
    """YAML or JSON text to a mapping; ValidationError with the parser's message."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ValidationError({"definition": f"Not valid YAML: {error}"}) from None
    if not isinstance(data, dict):
        raise ValidationError({"definition": "A definition is a mapping (code, name, items…)."})
    return data


def definition_load(*, request, data: dict[str, Any]) -> InstrumentDefinition:
    """Load a clinic definition (new code, or a higher version of an existing one)."""
    try:
        try:
            instrument = parse_instrument(data, origin="uploaded definition")
        except DefinitionError as error:
            raise ValidationError({"definition": str(error)}) from None
        # Stored as it will read back from the JSON column, dates and all.
        raw = json.loads(json.dumps(data, default=str))
        with transaction.atomic():
            return _store_definition(request, instrument, raw)
    except ValidationError as error:
        reject(request, "instrument.load", error)


def _store_definition(request, instrument: Instrument, raw: dict) -> InstrumentDefinition:
    """Write the definition row (a new one, or the next version) and audit old and new."""
    existing = InstrumentDefinition.objects.select_for_update().filter(code=instrument.code)
    current = existing.first()
    if current is not None and instrument.version <= current.version:
        raise ValidationError(
            {
                "definition": f"{instrument.code} is already at version "
                f"{current.version}; a change needs a higher version number."
            }
        )
    old = None
    if current is None:
        current = InstrumentDefinition(code=instrument.code, origin=DefinitionOrigin.CLINIC)
    else:
        old = {"version": current.version, "status": current.status, "name": current.name}
    current.name = instrument.name
    current.version = instrument.version
    current.status = instrument.status
    current.rater = instrument.rater
    current.definition = raw
    current.loaded_at = timezone.now()
    current.loaded_by = request.user
    if current.origin == DefinitionOrigin.SHIPPED:
        current.origin = DefinitionOrigin.CLINIC
    current.save()
    trail.record(
        action="instrument.load",
        request=request,
        target=current,
        detail={
            "code": current.code,
            "old": old,
            "new": {"version": current.version, "status": current.status, "name": current.name},
            "licence": instrument.licence,
        },
    )
    return current


def definition_set_status(*, request, definition: InstrumentDefinition, status: str) -> None:
    if status not in DefinitionStatus.values:
        reject(request, "instrument.status", ValidationError({"status": "Unknown status."}))
    with transaction.atomic():
        old = definition.status
        definition.status = status
        definition.save(update_fields=["status"])
        trail.record(
            action="instrument.status",
            request=request,
            target=definition,
            detail={"code": definition.code, "old": old, "new": status},
        )
