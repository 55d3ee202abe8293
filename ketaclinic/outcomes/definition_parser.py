"""Validating an outcome instrument definition: one YAML mapping in, a frozen ``Instrument`` out.

The parser refuses anything it cannot score safely: unknown keys (typos), gaps or overlaps
between bands, a declared total range that the items cannot produce, domains that do not
cover every item exactly once, flags on items that do not exist. Every error names the file
and the field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .instrument import (
    AnswerOption,
    Band,
    ClinicAlternative,
    Domain,
    FlagRule,
    Instrument,
    Item,
    LoincCode,
    OutcomeRules,
    RemissionRule,
    ResponseRule,
    ScoringRule,
    total_range,
)

RATERS = frozenset({"patient", "clinician"})
STATUSES = frozenset({"active", "draft"})
SCORING_TYPES = frozenset({"sum", "qids_domains", "pcl5", "max_item_risk"})


class DefinitionError(ValueError):
    """An instrument definition is malformed; the message names the file and the field."""


# --- parsing helpers -------------------------------------------------------------------


def _fail(where: str, message: str) -> DefinitionError:
    return DefinitionError(f"{where}: {message}")


def _mapping(value: Any, where: str, allowed: set[str], required: set[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(where, "expected a mapping")
    unknown = set(value) - allowed
    if unknown:
        raise _fail(where, f"unknown keys {sorted(unknown)}")
    missing = required - set(value)
    if missing:
        raise _fail(where, f"missing keys {sorted(missing)}")
    return value


def _int(value: Any, where: str) -> int:
    # bool is an int subclass; a YAML "yes" must not become the value 1 by accident.
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(where, f"expected an integer, got {value!r}")
    return value


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, f"expected non-empty text, got {value!r}")
    return value.strip()


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(where, f"expected true or false, got {value!r}")
    return value


def _list(value: Any, where: str) -> Sequence[Any]:
    if not isinstance(value, list):
        raise _fail(where, "expected a list")
    return value


# --- sections --------------------------------------------------------------------------


def _parse_options(raw: Any, where: str, scoring_type: str) -> tuple[AnswerOption, ...]:
    options = []
    for index, entry in enumerate(_list(raw, where)):
        at = f"{where}[{index}]"
        data = _mapping(entry, at, {"value", "text", "risk"}, {"value", "text"})
        risk = data.get("risk")
        if scoring_type == "max_item_risk" and risk is None:
            raise _fail(at, "max_item_risk needs a risk rank on every answer option")
        if scoring_type != "max_item_risk" and risk is not None:
            raise _fail(at, f"risk is only meaningful for max_item_risk, not {scoring_type}")
        options.append(
            AnswerOption(
                value=_int(data["value"], f"{at}.value"),
                text=_str(data["text"], f"{at}.text"),
                risk=None if risk is None else _int(risk, f"{at}.risk"),
            )
        )
    if not options:
        raise _fail(where, "an item needs at least one answer option")
    values = [option.value for option in options]
    if len(set(values)) != len(values):
        raise _fail(where, f"answer values repeat: {values}")
    return tuple(options)


def _parse_items(data: Mapping[str, Any], where: str, scoring_type: str) -> tuple[Item, ...]:
    shared_options = data.get("options")
    items = []
    for index, entry in enumerate(_list(data["items"], f"{where}.items")):
        at = f"{where}.items[{index}]"
        raw = _mapping(entry, at, {"number", "text", "options", "source_item"}, {"number", "text"})
        number = _int(raw["number"], f"{at}.number")
        if number != index + 1:
            raise _fail(at, f"items must be numbered 1, 2, 3… in order; found {number}")
        options_raw = raw.get("options", shared_options)
        if options_raw is None:
            raise _fail(at, "no answer options (give them on the item or at the top level)")
        source_item = raw.get("source_item")
        items.append(
            Item(
                number=number,
                text=_str(raw["text"], f"{at}.text"),
                options=_parse_options(options_raw, f"{at}.options", scoring_type),
                source_item=None if source_item is None else _int(source_item, f"{at}.source_item"),
            )
        )
    if not items:
        raise _fail(f"{where}.items", "an instrument needs at least one item")
    return tuple(items)


def _parse_domains(raw: Any, where: str, item_count: int) -> tuple[Domain, ...]:
    domains = []
    seen: list[int] = []
    for index, entry in enumerate(_list(raw, where)):
        at = f"{where}[{index}]"
        data = _mapping(entry, at, {"code", "name", "items", "min_endorsed"}, {"code", "items"})
        numbers = tuple(_int(n, f"{at}.items") for n in _list(data["items"], f"{at}.items"))
        if not numbers:
            raise _fail(at, "a domain needs at least one item")
        seen.extend(numbers)
        min_endorsed = data.get("min_endorsed")
        code = _str(data["code"], f"{at}.code")
        domains.append(
            Domain(
                code=code,
                name=_str(data.get("name", code), f"{at}.name"),
                items=numbers,
                min_endorsed=None if min_endorsed is None else _int(min_endorsed, f"{at}.min"),
            )
        )
    # Each item must count exactly once, otherwise a total silently double-counts or drops.
    if sorted(seen) != list(range(1, item_count + 1)):
        raise _fail(where, f"domains must cover items 1–{item_count} exactly once; got {seen}")
    codes = [domain.code for domain in domains]
    if len(set(codes)) != len(codes):
        raise _fail(where, f"domain codes repeat: {codes}")
    return tuple(domains)


def _parse_scoring(raw: Any, where: str) -> Mapping[str, Any]:
    data = _mapping(raw, where, {"type", "source", "domains", "endorsed_at"}, {"type", "source"})
    if data["type"] not in SCORING_TYPES:
        raise _fail(f"{where}.type", f"unknown rule {data['type']!r}; use {sorted(SCORING_TYPES)}")
    return data


def _build_scoring(data: Mapping[str, Any], where: str, items: tuple[Item, ...]) -> ScoringRule:
    kind = data["type"]
    needs_domains = kind in {"qids_domains", "pcl5"}
    if needs_domains != ("domains" in data):
        raise _fail(where, f"{kind} {'needs' if needs_domains else 'takes no'} domains")
    if (kind == "pcl5") != ("endorsed_at" in data):
        raise _fail(where, "endorsed_at belongs to (and is required by) the pcl5 rule")
    domains = (
        _parse_domains(data["domains"], f"{where}.domains", len(items)) if needs_domains else ()
    )
    endorsed_at = None
    if kind == "pcl5":
        endorsed_at = _int(data["endorsed_at"], f"{where}.endorsed_at")
        if any(domain.min_endorsed is None for domain in domains):
            raise _fail(where, "every pcl5 cluster needs min_endorsed")
        if any(not item.min_value < endorsed_at <= item.max_value for item in items):
            raise _fail(where, "endorsed_at must lie inside every item's answer range")
    return ScoringRule(
        type=kind,
        source=_str(data["source"], f"{where}.source"),
        domains=domains,
        endorsed_at=endorsed_at,
    )


def _parse_bands(raw: Any, where: str, total_min: int, total_max: int) -> tuple[Band, ...]:
    bands = []
    for index, entry in enumerate(_list(raw, where)):
        at = f"{where}[{index}]"
        data = _mapping(entry, at, {"code", "label", "min", "max", "note"}, {"code", "min", "max"})
        code = _str(data["code"], f"{at}.code")
        band = Band(
            code=code,
            label=_str(data.get("label", code), f"{at}.label"),
            min_total=_int(data["min"], f"{at}.min"),
            max_total=_int(data["max"], f"{at}.max"),
            note=str(data.get("note", "")).strip(),
        )
        if band.min_total > band.max_total:
            raise _fail(at, f"min {band.min_total} is above max {band.max_total}")
        bands.append(band)
    if not bands:
        return ()
    # Bands must tile the total range: every possible total gets exactly one band.
    expected = total_min
    for band in bands:
        if band.min_total != expected:
            raise _fail(
                where, f"band {band.code!r} starts at {band.min_total}, expected {expected}"
            )
        expected = band.max_total + 1
    if expected - 1 != total_max:
        raise _fail(where, f"bands end at {expected - 1} but the total reaches {total_max}")
    codes = [band.code for band in bands]
    if len(set(codes)) != len(codes):
        raise _fail(where, f"band codes repeat: {codes}")
    return tuple(bands)


def _parse_flags(raw: Any, where: str, items: tuple[Item, ...]) -> tuple[FlagRule, ...]:
    flags = []
    for index, entry in enumerate(_list(raw, where)):
        at = f"{where}[{index}]"
        data = _mapping(
            entry, at, {"code", "item", "above", "source", "note"}, {"code", "item", "above"}
        )
        number = _int(data["item"], f"{at}.item")
        if not 1 <= number <= len(items):
            raise _fail(at, f"item {number} does not exist")
        above = _int(data["above"], f"{at}.above")
        item = items[number - 1]
        if not item.min_value <= above < item.max_value:
            raise _fail(at, f"above={above} can never or always fire for item {number}")
        flags.append(
            FlagRule(
                code=_str(data["code"], f"{at}.code"),
                item=number,
                above=above,
                source=_str(data.get("source", ""), f"{at}.source"),
                note=str(data.get("note", "")).strip(),
            )
        )
    return tuple(flags)


def _parse_outcome(raw: Any, where: str, total_min: int, total_max: int) -> OutcomeRules:
    if raw is None:
        return OutcomeRules(response=None)
    data = _mapping(raw, where, {"response", "remission"}, set())
    response = None
    if data.get("response") is not None:
        at = f"{where}.response"
        rule = _mapping(data["response"], at, {"fall_pct", "fall_points", "source"}, {"source"})
        if ("fall_pct" in rule) == ("fall_points" in rule):
            raise _fail(at, "give exactly one of fall_pct or fall_points")
        response = ResponseRule(
            source=_str(rule["source"], f"{at}.source"),
            fall_pct=_int(rule["fall_pct"], f"{at}.fall_pct") if "fall_pct" in rule else None,
            fall_points=(
                _int(rule["fall_points"], f"{at}.fall_points") if "fall_points" in rule else None
            ),
        )
        if response.fall_pct is not None and not 0 < response.fall_pct <= 100:
            raise _fail(at, "fall_pct must be within 1–100")
        if response.fall_points is not None and not 0 < response.fall_points <= total_max:
            raise _fail(at, "fall_points must be positive and within the total range")
    remission = []
    for index, entry in enumerate(_list(data.get("remission", []), f"{where}.remission")):
        at = f"{where}.remission[{index}]"
        rule = _mapping(entry, at, {"code", "at_most", "source"}, {"code", "at_most", "source"})
        at_most = _int(rule["at_most"], f"{at}.at_most")
        if not total_min <= at_most <= total_max:
            raise _fail(at, f"at_most={at_most} lies outside the total range")
        remission.append(
            RemissionRule(
                code=_str(rule["code"], f"{at}.code"),
                at_most=at_most,
                source=_str(rule["source"], f"{at}.source"),
            )
        )
    return OutcomeRules(response=response, remission=tuple(remission))


def _parse_loinc(raw: Any, where: str) -> tuple[LoincCode, ...]:
    codes = []
    for index, entry in enumerate(_list(raw, where)):
        at = f"{where}[{index}]"
        data = _mapping(
            entry, at, {"role", "code", "verified", "note"}, {"role", "code", "verified"}
        )
        codes.append(
            LoincCode(
                role=_str(data["role"], f"{at}.role"),
                code=_str(data["code"], f"{at}.code"),
                verified=_bool(data["verified"], f"{at}.verified"),
                note=str(data.get("note", "")).strip(),
            )
        )
    return tuple(codes)


def _parse_alternatives(raw: Any, where: str) -> tuple[ClinicAlternative, ...]:
    alternatives = []
    for index, entry in enumerate(_list(raw, where)):
        at = f"{where}[{index}]"
        data = _mapping(
            entry,
            at,
            {"code", "name", "source", "note", "source_items"},
            {"code", "name", "source", "note"},
        )
        alternatives.append(
            ClinicAlternative(
                code=_str(data["code"], f"{at}.code"),
                name=_str(data["name"], f"{at}.name"),
                source=_str(data["source"], f"{at}.source"),
                note=_str(data["note"], f"{at}.note"),
                source_items=tuple(
                    _int(n, f"{at}.source_items") for n in data.get("source_items", [])
                ),
            )
        )
    return tuple(alternatives)


_TOP_KEYS = {
    "code",
    "name",
    "version",
    "status",
    "rater",
    "licence",
    "source",
    "citation",
    "item_text_verified",
    "stem",
    "options",
    "items",
    "scoring",
    "total",
    "bands",
    "flags",
    "outcome",
    "loinc",
    "alternatives",
    "notes",
}
_REQUIRED_KEYS = {
    "code",
    "name",
    "version",
    "status",
    "rater",
    "licence",
    "source",
    "item_text_verified",
    "items",
    "scoring",
    "total",
}


def parse_instrument(data: Any, *, origin: str = "<definition>") -> Instrument:
    """Validate one instrument definition (the parsed YAML mapping) and freeze it.

    Raises
    ------
    DefinitionError
        Naming ``origin`` and the offending field.
    """
    top = _mapping(data, origin, _TOP_KEYS, _REQUIRED_KEYS)
    code = _str(top["code"], f"{origin}.code")
    where = f"{origin} ({code})"
    status = _str(top["status"], f"{where}.status")
    if status not in STATUSES:
        raise _fail(f"{where}.status", f"use one of {sorted(STATUSES)}")
    rater = _str(top["rater"], f"{where}.rater")
    if rater not in RATERS:
        raise _fail(f"{where}.rater", f"use one of {sorted(RATERS)}")
    scoring_data = _parse_scoring(top["scoring"], f"{where}.scoring")
    items = _parse_items(top, where, scoring_data["type"])
    scoring = _build_scoring(scoring_data, f"{where}.scoring", items)

    declared = _mapping(top["total"], f"{where}.total", {"min", "max"}, {"min", "max"})
    total_min, total_max = total_range(items, scoring)
    # The declared range restates the reference ("total 0–27"): a mismatch means a typo
    # in the items or the rule, caught here rather than in a patient's score.
    if (declared["min"], declared["max"]) != (total_min, total_max):
        raise _fail(
            f"{where}.total",
            f"declared {declared['min']}–{declared['max']} but items give {total_min}–{total_max}",
        )

    return Instrument(
        code=code,
        name=_str(top["name"], f"{where}.name"),
        version=_int(top["version"], f"{where}.version"),
        status=status,
        rater=rater,
        licence=_str(top["licence"], f"{where}.licence"),
        source=_str(top["source"], f"{where}.source"),
        item_text_verified=_bool(top["item_text_verified"], f"{where}.item_text_verified"),
        stem=str(top.get("stem", "")).strip(),
        items=items,
        scoring=scoring,
        total_min=total_min,
        total_max=total_max,
        bands=_parse_bands(top.get("bands", []), f"{where}.bands", total_min, total_max),
        flags=_parse_flags(top.get("flags", []), f"{where}.flags", items),
        outcome=_parse_outcome(top.get("outcome"), f"{where}.outcome", total_min, total_max),
        loinc=_parse_loinc(top.get("loinc", []), f"{where}.loinc"),
        alternatives=_parse_alternatives(top.get("alternatives", []), f"{where}.alternatives"),
        citation=str(top.get("citation", "")).strip(),
        notes=str(top.get("notes", "")).strip(),
    )
