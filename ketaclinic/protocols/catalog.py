"""Protocol catalog: the shipped protocol, schedule and dosing-policy data, loaded and looked up.

Pure Python, no Django. The data live in ``protocols/data/*.yaml``, transcribed from
shared/domain/REFERENCE.md sections 1 and 3 with a source next to every number. This module
loads them once, validates the files themselves (unknown keys, missing sources, min above max,
dangling schedule codes...) and offers lookups by code. The lead seeds the database from the
same files; dosing.py and plans/schedule.py read the dataclasses.

The dataclasses live in :mod:`.entries`, the readers in :mod:`.protocol_parsing` and
:mod:`.schedule_parsing`; this module is the catalog's public face and re-exports them.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from .entries import (
    INDICATIONS,
    ROUTES,
    SESSION_PHASES,
    Catalog,
    CatalogError,
    DecimalRange,
    DoseBasis,
    DoseRule,
    DosingPolicy,
    Fasting,
    Infusion,
    IntRange,
    Monitoring,
    OlderAdultRule,
    Protocol,
    ProtocolPhase,
    ScheduleKind,
    SchedulePattern,
    SchedulePhase,
    UnknownCodeError,
)
from .protocol_parsing import read_protocol
from .schedule_parsing import read_dosing_policy, read_schedule
from .yaml_reader import StrictReader, present

__all__ = [
    "INDICATIONS",
    "ROUTES",
    "SESSION_PHASES",
    "Catalog",
    "CatalogError",
    "DecimalRange",
    "DoseBasis",
    "DoseRule",
    "DosingPolicy",
    "Fasting",
    "Infusion",
    "IntRange",
    "Monitoring",
    "OlderAdultRule",
    "Protocol",
    "ProtocolPhase",
    "ScheduleKind",
    "SchedulePattern",
    "SchedulePhase",
    "UnknownCodeError",
    "catalog",
    "get_protocol",
    "get_schedule",
    "load_catalog",
    "parse_protocol",
    "protocols",
]


def _unique(items: list[Any], what: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for item in items:
        if item.code in result:
            raise CatalogError(f"duplicate {what} code {item.code!r}")
        result[item.code] = item
    return result


def _read_yaml(directory: Path | None, name: str) -> Any:
    if directory is None:
        text = resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8")
    else:
        text = (directory / name).read_text(encoding="utf-8")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CatalogError(f"{name}: not valid YAML ({error})") from None


def load_catalog(directory: Path | None = None) -> Catalog:
    """Load and validate ``protocols.yaml``, ``schedules.yaml`` and ``dosing_policy.yaml``.

    Without ``directory``, the shipped data (use :func:`catalog` for the cached copy).
    Raises :class:`CatalogError` naming the file position of the first problem.
    """
    protocols_doc = StrictReader(_read_yaml(directory, "protocols.yaml"), "protocols.yaml")
    protocols_doc.integer("version", minimum=1)
    protocols_doc.text("reference")
    protocol_list = [read_protocol(child) for child in protocols_doc.children("protocols")]
    protocols_doc.done()

    schedules_doc = StrictReader(_read_yaml(directory, "schedules.yaml"), "schedules.yaml")
    schedules_doc.integer("version", minimum=1)
    week = present(schedules_doc.child("working_week"))
    min_working_days = present(week.integer("min_distinct_days", minimum=1))
    min_working_days_sources = week.sources()
    week.flag("clinic_editable", default=False)
    week.done()
    schedule_list = [read_schedule(child) for child in schedules_doc.children("schedules")]
    schedules_doc.done()

    policy = read_dosing_policy(
        StrictReader(_read_yaml(directory, "dosing_policy.yaml"), "dosing_policy")
    )

    by_code = _unique(protocol_list, "protocol")
    schedules_by_code = _unique(schedule_list, "schedule")
    for protocol in protocol_list:
        missing = [code for code in protocol.course_schedules if code not in schedules_by_code]
        if missing:
            raise CatalogError(f"protocol {protocol.code!r}: unknown course_schedules {missing}")
    return Catalog(
        protocols=MappingProxyType(by_code),
        schedules=MappingProxyType(schedules_by_code),
        dosing_policy=policy,
        min_working_days=min_working_days,
        min_working_days_sources=min_working_days_sources,
    )


@cache
def catalog() -> Catalog:
    """The shipped catalog, loaded and validated once."""
    return load_catalog()


def parse_protocol(raw: Mapping[str, Any], where: str = "protocol") -> Protocol:
    """Validate one protocol given in the shape of a ``protocols.yaml`` entry.

    For protocols kept elsewhere than the shipped file (the clinic's database copy): the same
    checks as the file gets (sources present, min not above max, default inside the allowed
    range, esketamine only in whole devices and never for home use), plus ``course_schedules``
    naming shipped schedule patterns. Raises :class:`CatalogError` naming the first problem.
    """
    result = read_protocol(StrictReader(dict(raw), where))
    missing = [code for code in result.course_schedules if code not in catalog().schedules]
    if missing:
        raise CatalogError(f"{where}.course_schedules: unknown schedule codes {missing}")
    return result


def protocols() -> tuple[Protocol, ...]:
    """All shipped protocols, in file order."""
    return tuple(catalog().protocols.values())


def get_protocol(code: str) -> Protocol:
    """The protocol with ``code``; :class:`UnknownCodeError` if there is none."""
    found = catalog().protocols.get(code) if isinstance(code, str) else None
    if found is None:
        raise UnknownCodeError("protocol", code, tuple(catalog().protocols))
    return found


def get_schedule(code: str) -> SchedulePattern:
    """The schedule pattern with ``code``; :class:`UnknownCodeError` if there is none."""
    found = catalog().schedules.get(code) if isinstance(code, str) else None
    if found is None:
        raise UnknownCodeError("schedule", code, tuple(catalog().schedules))
    return found
