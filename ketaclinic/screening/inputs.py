"""Checking the inputs of one screening evaluation: choices, whole numbers, readings, codes.

Pure Python, no Django. Each refusal is a :class:`ScreeningInputError` naming the input at
fault (HTTP 422); the plausibility limits on age and blood pressure come from the vocabulary.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .findings import Indication, InputLimit, Route, Vocabulary


class ScreeningInputError(ValueError):
    """An input to :func:`evaluate` is missing, unknown or implausible.

    ``field`` names the offending input so the API can point at it (HTTP 422).
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Inputs:
    """Validated inputs of one evaluation."""

    route: Route
    indication: Indication
    age_years: int
    adequate_antidepressant_trials: int
    reported: frozenset[str]
    systolic_mmhg: float | None
    diastolic_mmhg: float | None
    oral_antidepressant: bool | None


def _parse_choice(enum: type[StrEnum], value: Any, field_name: str) -> Any:
    if value is None:
        raise ScreeningInputError(field_name, "is required")
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise ScreeningInputError(
            field_name, f"unknown {field_name} {value!r}; expected one of {allowed}"
        ) from None


def _parse_whole_number(value: Any, field_name: str, low: int, high: int | None) -> int:
    if value is None:
        raise ScreeningInputError(field_name, "is required")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScreeningInputError(field_name, f"must be a whole number, got {value!r}")
    if value < low:
        raise ScreeningInputError(field_name, f"must be at least {low}, got {value}")
    if high is not None and value > high:
        raise ScreeningInputError(field_name, f"must be at most {high}, got {value}")
    return value


def _parse_reading(value: Any, field_name: str, limit: InputLimit) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ScreeningInputError(field_name, f"must be a number in mmHg, got {value!r}")
    if not limit.min <= value <= limit.max:
        raise ScreeningInputError(
            field_name,
            f"{value} mmHg is not a plausible reading (accepted {limit.min}-{limit.max} mmHg); "
            "re-measure",
        )
    return value


def _parse_blood_pressure(
    systolic: Any, diastolic: Any, vocab: Vocabulary
) -> tuple[float | None, float | None]:
    if systolic is None and diastolic is None:
        return None, None
    if systolic is None:
        raise ScreeningInputError("systolic_mmhg", "give both readings or neither")
    if diastolic is None:
        raise ScreeningInputError("diastolic_mmhg", "give both readings or neither")
    systolic_mmhg = _parse_reading(systolic, "systolic_mmhg", vocab.systolic_mmhg)
    diastolic_mmhg = _parse_reading(diastolic, "diastolic_mmhg", vocab.diastolic_mmhg)
    if diastolic_mmhg >= systolic_mmhg:
        raise ScreeningInputError(
            "diastolic_mmhg",
            f"diastolic {diastolic_mmhg} must be below systolic {systolic_mmhg}; re-measure",
        )
    return systolic_mmhg, diastolic_mmhg


def _parse_reported(findings: Any, vocab: Vocabulary) -> frozenset[str]:
    # A bare string would be iterated letter by letter: refuse it explicitly.
    if isinstance(findings, str | bytes) or not isinstance(findings, Iterable):
        raise ScreeningInputError("findings", "must be a list of finding codes")
    codes = list(findings)
    not_text = [code for code in codes if not isinstance(code, str)]
    if not_text:
        raise ScreeningInputError("findings", f"codes must be text, got {not_text!r}")
    unknown = sorted({code for code in codes if code not in vocab.by_code})
    if unknown:
        raise ScreeningInputError(
            "findings",
            f"unknown finding codes {unknown}; see the screening vocabulary for valid codes",
        )
    computed = sorted({code for code in codes if vocab.by_code[code].is_computed})
    if computed:
        raise ScreeningInputError(
            "findings",
            f"{computed} are computed by the engine from age, blood pressure, antidepressant "
            "trials, route and indication; pass those inputs instead of the codes, so the "
            "finding always matches the data it is based on",
        )
    return frozenset(codes)


def parse_inputs(vocab: Vocabulary, **raw: Any) -> Inputs:
    oral_antidepressant = raw["oral_antidepressant"]
    if oral_antidepressant is not None and not isinstance(oral_antidepressant, bool):
        raise ScreeningInputError(
            "oral_antidepressant", f"must be true, false or not given, got {oral_antidepressant!r}"
        )
    systolic_mmhg, diastolic_mmhg = _parse_blood_pressure(
        raw["systolic_mmhg"], raw["diastolic_mmhg"], vocab
    )
    return Inputs(
        route=_parse_choice(Route, raw["route"], "route"),
        indication=_parse_choice(Indication, raw["indication"], "indication"),
        age_years=_parse_whole_number(
            raw["age_years"], "age_years", vocab.age_years.min, vocab.age_years.max
        ),
        adequate_antidepressant_trials=_parse_whole_number(
            raw["adequate_antidepressant_trials"], "adequate_antidepressant_trials", 0, None
        ),
        reported=_parse_reported(raw["findings"], vocab),
        systolic_mmhg=systolic_mmhg,
        diastolic_mmhg=diastolic_mmhg,
        oral_antidepressant=oral_antidepressant,
    )
