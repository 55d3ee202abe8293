"""Outcome instrument definitions: YAML data in, validated frozen dataclasses out.

Every questionnaire the clinic uses (PHQ-9, GAD-7, PCL-5, QIDS-SR16, MADRS, pain and
dissociation ratings) is a YAML file in ``instruments/``. Nothing clinical is written in
Python: item texts, answer values, scoring rule, bands, flags and the response/remission
rules are data that name their source in ``shared/domain/REFERENCE.md``.

A clinic may load its own definitions through the same validation (``parse_instrument``),
for instance a licensed C-SSRS screener, which the software must not ship (REFERENCE.md §5).

This module finds and caches the files; ``definition_parser`` validates each one (and
refuses anything it cannot score safely); ``instrument`` holds the frozen shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType

import yaml

from .definition_parser import DefinitionError, parse_instrument

# The instrument's shape is re-exported: callers import it from here, the app's public face.
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

__all__ = [
    "INSTRUMENTS_DIR",
    "AnswerOption",
    "Band",
    "ClinicAlternative",
    "DefinitionError",
    "Domain",
    "FlagRule",
    "Instrument",
    "Item",
    "LoincCode",
    "OutcomeRules",
    "RemissionRule",
    "ResponseRule",
    "ScoringRule",
    "UnknownInstrumentError",
    "get_instrument",
    "load_instrument_file",
    "load_instruments",
    "parse_instrument",
    "shipped_instruments",
    "total_range",
]

INSTRUMENTS_DIR = Path(__file__).resolve().parent / "instruments"


class UnknownInstrumentError(LookupError):
    """No instrument with this code is loaded."""


def load_instrument_file(path: Path | str) -> Instrument:
    """Read and validate one YAML definition file."""
    path = Path(path)
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return parse_instrument(data, origin=path.name)


def load_instruments(directory: Path | str = INSTRUMENTS_DIR) -> Mapping[str, Instrument]:
    """Load every ``*.yaml`` definition in ``directory``, keyed by instrument code."""
    instruments: dict[str, Instrument] = {}
    for path in sorted(Path(directory).glob("*.yaml")):
        instrument = load_instrument_file(path)
        if instrument.code in instruments:
            raise DefinitionError(f"{path.name}: instrument code {instrument.code!r} repeats")
        instruments[instrument.code] = instrument
    return MappingProxyType(instruments)


@cache
def shipped_instruments() -> Mapping[str, Instrument]:
    """The definitions shipped with ketaclinic, loaded once per process."""
    return load_instruments(INSTRUMENTS_DIR)


def get_instrument(code: str) -> Instrument:
    """A shipped instrument by code (``phq9``, ``gad7``…).

    Raises
    ------
    UnknownInstrumentError
        When no shipped instrument has this code (the API answers 404).
    """
    try:
        return shipped_instruments()[code]
    except KeyError:
        raise UnknownInstrumentError(code) from None
