"""FHIR search parameters as database filters, and offset paging across a type's sources.

Supported: ``_id``, ``_lastUpdated``, ``patient``, ``date``, ``code`` (each where the type
declares it; see ``registry``), ``_count`` (page size) and ``_offset`` (the paging links'
position). Dates take the prefixes ``eq`` (default), ``ge``, ``gt``, ``le``, ``lt`` and any
precision from a year to a second; a date without a time is a day in the clinic's zone.
Comma-separated values are alternatives (OR); repeated parameters all apply (AND). An
unknown parameter is refused (400) rather than silently ignored, so a client never mistakes
an unfiltered answer for a filtered one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

from .registry import ResourceType, Source

DEFAULT_COUNT = 50
MAX_COUNT = 500
PREFIXES = ("eq", "ge", "gt", "le", "lt")
IGNORED = {"_format", "_pretty"}
DATE = re.compile(
    r"^(?P<prefix>[a-z]{2})?(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d+)?)?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


class BadParameter(ValueError):
    def __init__(self, name: str, message: str, *, status: int = 400, code: str = "invalid"):
        super().__init__(message)
        self.name, self.status, self.code = name, status, code


@dataclass(frozen=True)
class DateRange:
    prefix: str
    start: dt.datetime
    end: dt.datetime  # exclusive


@dataclass
class Query:
    ids: list[list[str]] = field(default_factory=list)
    patients: list[list[int]] = field(default_factory=list)
    dates: list[DateRange] = field(default_factory=list)
    updated: list[DateRange] = field(default_factory=list)
    codes: list[list[tuple[str | None, str]]] = field(default_factory=list)
    count: int = DEFAULT_COUNT
    offset: int = 0


def parse(params, resource_type: ResourceType) -> Query:
    allowed = {name for name, _, _ in resource_type.search_params}
    query = Query()
    for name in params:
        values = params.getlist(name)
        if name in IGNORED:
            continue
        if name == "_count":
            query.count = whole_number(name, values[-1], 1, MAX_COUNT)
        elif name == "_offset":
            query.offset = whole_number(name, values[-1], 0, 10**9)
        elif name not in allowed:
            raise BadParameter(
                name,
                f"Search parameter '{name}' is not supported for {resource_type.name}; "
                f"supported: {', '.join(sorted(allowed | {'_count'}))}.",
                code="not-supported",
            )
        else:
            for value in values:
                add(query, name, value)
    return query


def whole_number(name: str, text: str, low: int, high: int) -> int:
    if not text.strip().isdigit() or not low <= int(text) <= high:
        raise BadParameter(name, f"{name} must be a whole number from {low} to {high}.")
    return int(text)


def alternatives(name: str, value: str) -> list[str]:
    parts = [p.strip() for p in value.split(",")]
    if not value.strip() or any(not p for p in parts):
        raise BadParameter(name, f"{name} has an empty value.")
    return parts


def add(query: Query, name: str, value: str) -> None:
    if name == "_id":
        query.ids.append(alternatives(name, value))
    elif name == "patient":
        query.patients.append([patient_id(p) for p in alternatives(name, value)])
    elif name == "date":
        query.dates.append(date_range(name, value))
    elif name == "_lastUpdated":
        query.updated.append(date_range(name, value))
    elif name == "code":
        query.codes.append([token(p) for p in alternatives(name, value)])


def patient_id(text: str) -> int:
    key = text.removeprefix("Patient/")
    if not key.isdigit() or len(key) > 18:
        raise BadParameter("patient", f"patient must be Patient/<id> or <id>, not '{text}'.")
    return int(key)


def token(text: str) -> tuple[str | None, str]:
    if "|" in text:
        system, _, code = text.partition("|")
        if not code:
            raise BadParameter("code", "code needs a code after the '|'.")
        return system, code
    return None, text


def date_range(name: str, text: str) -> DateRange:
    match = DATE.match(text.strip())
    if not match:
        raise BadParameter(
            name, f"{name} '{text}' is not a FHIR date (e.g. ge2024-05-01 or 2024-05)."
        )
    prefix = match["prefix"] or "eq"
    if prefix not in PREFIXES:
        raise BadParameter(
            name, f"{name} prefix '{prefix}' is not supported; use one of {', '.join(PREFIXES)}."
        )
    try:
        start, end = bounds(match)
    except ValueError as problem:
        raise BadParameter(name, f"{name} '{text}' is not a real date: {problem}.") from None
    return DateRange(prefix, start, end)


def bounds(match: re.Match) -> tuple[dt.datetime, dt.datetime]:
    year = int(match["year"])
    zone = timezone.get_current_timezone()
    if match["month"] is None:
        start = dt.datetime(year, 1, 1, tzinfo=zone)
        return start, dt.datetime(year + 1, 1, 1, tzinfo=zone)
    month = int(match["month"])
    if match["day"] is None:
        start = dt.datetime(year, month, 1, tzinfo=zone)
        following = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
        return start, following
    day = dt.date(year, month, int(match["day"]))
    if match["hour"] is None:
        start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
        return start, start + dt.timedelta(days=1)
    if match["zone"] is None:
        raise ValueError("a time needs a zone (Z or +hh:mm)")
    tz = dt.UTC if match["zone"] == "Z" else dt.datetime.strptime(match["zone"], "%z").tzinfo
    second = match["second"]
    start = dt.datetime.combine(
        day, dt.time(int(match["hour"]), int(match["minute"]), int(second or 0)), tzinfo=tz
    )
    step = dt.timedelta(seconds=1) if second is not None else dt.timedelta(minutes=1)
    return start, start + step


# --- Filtering ---------------------------------------------------------------------------


def range_filter(qs: QuerySet, field_name: str, wanted: DateRange) -> QuerySet:
    model_field = qs.model._meta.get_field(field_name)
    start, end = wanted.start, wanted.end
    if not isinstance(model_field, models.DateTimeField):
        zone = timezone.get_current_timezone()
        start = start.astimezone(zone).date()
        last = (end - dt.timedelta(microseconds=1)).astimezone(zone).date()
        end = last + dt.timedelta(days=1)
    conditions = {
        "eq": {f"{field_name}__gte": start, f"{field_name}__lt": end},
        "ge": {f"{field_name}__gte": start},
        "gt": {f"{field_name}__gte": end},
        "le": {f"{field_name}__lt": end},
        "lt": {f"{field_name}__lt": start},
    }[wanted.prefix]
    return qs.filter(**conditions)


def filtered(source: Source, resource_type: ResourceType, query: Query) -> QuerySet | None:
    """The source's rows matching ``query``; None when the source cannot match at all."""
    qs = source.queryset()
    for ids in query.ids:
        wanted = Q()
        for text in ids:
            found = resource_type.source_for(text)
            lookup = found[0].find(found[1]) if found and found[0] is source else None
            if lookup is not None:
                wanted |= lookup
        if not wanted:
            return None
        qs = qs.filter(wanted)
    for patients in query.patients:
        if source.patient_field is None:
            return None
        qs = qs.filter(**{f"{source.patient_field}__in": patients})
    for wanted in query.dates:
        if source.date_field is None:
            return None
        qs = range_filter(qs, source.date_field, wanted)
    for wanted in query.updated:
        if source.updated_field is None:
            return None
        qs = range_filter(qs, source.updated_field, wanted)
    for tokens in query.codes:
        qs = code_filtered(source, qs, tokens)
        if qs is None:
            return None
    return qs


def code_filtered(source: Source, qs: QuerySet, tokens) -> QuerySet | None:
    for system, code in tokens:
        if any(code == c and system in (None, "", s) for s, c in source.codes):
            return qs  # every resource of this source carries the code
    if source.code_filter is None:
        return None
    wanted = Q()
    for system, code in tokens:
        condition = source.code_filter(system, code)
        if condition is not None:
            wanted |= condition
    return qs.filter(wanted) if wanted else None


def page(
    resource_type: ResourceType,
    query: Query,
    *,
    restrict: Callable[[Source, QuerySet], QuerySet],
) -> tuple[list[dict], int]:
    """One page of matching resources (offset ``query.offset``) and the total across sources.

    Queries: one COUNT per source that can match, plus one SELECT (and its prefetches) per
    source the page reaches.
    """
    matching = []
    for source in resource_type.sources:
        qs = filtered(source, resource_type, query)
        if qs is not None:
            qs = restrict(source, qs)
            matching.append((source, qs, qs.count()))
    total = sum(count for _, _, count in matching)
    out: list[dict] = []
    skip, wanted = query.offset, query.count
    for source, qs, count in matching:
        if skip >= count:
            skip -= count
            continue
        rows = list(qs[skip : skip + wanted - len(out)])
        out.extend(source.to_fhir(row) for row in rows)
        skip = 0
        if len(out) >= wanted:
            break
    return out, total


def patients_of(resources: list[dict]) -> list[int]:
    """The patient ids the resources belong to, for the audit trail."""
    found: set[int] = set()
    for resource in resources:
        if resource["resourceType"] == "Patient":
            found.add(int(resource["id"]))
            continue
        for key in ("subject", "patient"):
            reference = (resource.get(key) or {}).get("reference", "")
            if reference.startswith("Patient/"):
                found.add(int(reference.removeprefix("Patient/")))
        for entity in (
            resource.get("entity", []) if resource["resourceType"] == "AuditEvent" else []
        ):
            reference = (entity.get("what") or {}).get("reference", "")
            if reference.startswith("Patient/"):
                found.add(int(reference.removeprefix("Patient/")))
    return sorted(found)
