"""A FHIR resource type as the registry declares it: one or more sources of rows.

A **source** is one model queryset whose every row becomes exactly one resource through its
``to_fhir(obj) -> dict``. Each source declares:

- ``queryset``: the rows, with the ``select_related``/``prefetch_related`` its ``to_fhir``
  needs, so serialising costs no query per object;
- ``patient_field``: the lookup to the patient (``patient_id``, ``session__patient_id``);
  ``None`` for shared definitions (Practitioner, Questionnaire);
- ``date_field``: what ``date`` searches (a DateField or DateTimeField);
- ``updated_field``: what ``_lastUpdated`` and bulk ``_since`` search, and ``meta.lastUpdated``;
- ``codes``: the fixed ``(system, code)`` pairs every resource of the source carries, or
  ``code_filter(system, code) -> Q | None`` where the code comes from the row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet


@dataclass(frozen=True)
class Source:
    queryset: Callable[[], QuerySet]
    to_fhir: Callable[[Any], dict]
    prefix: str = ""
    patient_field: str | None = "patient_id"
    date_field: str | None = None
    updated_field: str | None = None
    codes: tuple[tuple[str, str], ...] = ()
    code_filter: Callable[[str | None, str], Q | None] | None = None
    # The filter finding the row behind an id (without its prefix); None: not one of ours.
    lookup: Callable[[str], Q | None] | None = None

    def find(self, key: str) -> Q | None:
        if self.lookup is not None:
            return self.lookup(key)
        return Q(pk=int(key)) if key.isdigit() and len(key) < 19 else None

    @property
    def searchable_by_code(self) -> bool:
        return bool(self.codes) or self.code_filter is not None


@dataclass(frozen=True)
class ResourceType:
    name: str
    sources: tuple[Source, ...]
    permission: str
    documentation: str
    # Search by patient on Patient itself means the resource id.
    patient_is_self: bool = False
    search_extra: tuple[str, ...] = field(default=())

    def source_for(self, resource_id: str) -> tuple[Source, str] | None:
        """The source and primary key behind ``resource_id``, or None if not ours."""
        head, _, key = resource_id.partition("-")
        for source in self.sources:
            if not source.prefix:
                return source, resource_id
            if head == source.prefix and key:
                return source, key
        return None

    @property
    def search_params(self) -> list[tuple[str, str, str]]:
        """(name, FHIR type, documentation) of every search parameter this type supports."""
        params = [("_id", "token", "Logical id of the resource")]
        if any(s.updated_field for s in self.sources):
            params.append(("_lastUpdated", "date", "When the resource last changed"))
        if self.patient_is_self or any(s.patient_field for s in self.sources):
            params.append(("patient", "reference", "The patient (Patient/id or id)"))
        if any(s.date_field for s in self.sources):
            params.append(("date", "date", "Clinical date, with prefixes eq, ge, gt, le, lt"))
        if any(s.searchable_by_code for s in self.sources):
            params.append(("code", "token", "A code, as system|code or code"))
        return params
