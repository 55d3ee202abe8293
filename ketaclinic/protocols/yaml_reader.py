"""A small strict reader for the catalog's YAML: every key must be read, every value checked.

A key the reader never asked for is an error (:meth:`StrictReader.done`), so a misspelt key in a
data file is refused rather than silently ignored.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from .entries import CatalogError, DecimalRange, IntRange


class StrictReader:
    """Reads one YAML mapping, remembering which keys were used so leftovers are errors."""

    def __init__(self, raw: Any, where: str) -> None:
        if not isinstance(raw, dict):
            raise CatalogError(f"{where}: expected a mapping, got {raw!r}")
        self.raw = raw
        self.where = where
        self.used: set[str] = set()

    def value(self, key: str, required: bool) -> Any:
        self.used.add(key)
        value = self.raw.get(key)
        if value is None and required:
            raise CatalogError(f"{self.where}.{key}: required")
        return value

    def fail(self, key: str, problem: str) -> CatalogError:
        return CatalogError(f"{self.where}.{key}: {problem}")

    def text(self, key: str, *, required: bool = True) -> str | None:
        value = self.value(key, required)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "expected non-empty text")
        return " ".join(value.split())

    def choice(self, key: str, allowed: tuple[str, ...]) -> str:
        value = self.value(key, True)
        if value not in allowed:
            raise self.fail(key, f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def integer(self, key: str, *, required: bool = True, minimum: int = 0) -> int | None:
        value = self.value(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"expected a whole number, got {value!r}")
        if value < minimum:
            raise self.fail(key, f"must be at least {minimum}")
        return value

    def decimal(self, key: str) -> Decimal:
        value = self.value(key, True)
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.fail(key, f"expected a number, got {value!r}")
        try:
            # str() first: YAML reads 0.1 as a float, and Decimal(0.1) is not 0.1.
            number = Decimal(str(value))
        except InvalidOperation:
            raise self.fail(key, f"expected a number, got {value!r}") from None
        if not number.is_finite() or number <= 0:
            raise self.fail(key, "must be a positive number")
        return number

    def flag(self, key: str, *, default: bool | None = None) -> bool:
        value = self.value(key, default is None)
        if value is None:
            return bool(default)
        if not isinstance(value, bool):
            raise self.fail(key, "expected true or false")
        return value

    def sources(self, key: str = "sources") -> tuple[str, ...]:
        value = self.value(key, True)
        if not isinstance(value, list) or not value:
            raise self.fail(key, "every entry must name at least one source")
        if not all(isinstance(item, str) and item.strip() for item in value):
            raise self.fail(key, "sources must be non-empty text")
        return tuple(" ".join(item.split()) for item in value)

    def int_list(self, key: str) -> tuple[int, ...]:
        value = self.value(key, False)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(
            isinstance(item, int) and not isinstance(item, bool) and item > 0 for item in value
        ):
            raise self.fail(key, "expected a list of positive whole numbers")
        return tuple(value)

    def text_list(self, key: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
        value = self.value(key, False)
        if value is None:
            return ()
        if not isinstance(value, list) or any(item not in allowed for item in value):
            raise self.fail(key, f"expected a list drawn from {', '.join(allowed)}")
        return tuple(value)

    def child(self, key: str, *, required: bool = True) -> StrictReader | None:
        value = self.value(key, required)
        return None if value is None else StrictReader(value, f"{self.where}.{key}")

    def children(self, key: str) -> list[StrictReader]:
        value = self.value(key, True)
        if not isinstance(value, list) or not value:
            raise self.fail(key, "expected a non-empty list")
        return [StrictReader(item, f"{self.where}.{key}[{i}]") for i, item in enumerate(value)]

    def done(self) -> None:
        leftover = set(self.raw) - self.used
        if leftover:
            raise CatalogError(f"{self.where}: unknown keys {sorted(leftover)}")


def decimal_range(reader: StrictReader | None) -> DecimalRange | None:
    if reader is None:
        return None
    result = DecimalRange(
        min=reader.decimal("min"),
        max=reader.decimal("max"),
        sources=reader.sources(),
        clinic_editable=reader.flag("clinic_editable", default=False),
    )
    if result.min > result.max:
        raise reader.fail("min", "is above max")
    reader.done()
    return result


def int_range(reader: StrictReader | None) -> IntRange | None:
    if reader is None:
        return None
    result = IntRange(
        min=present(reader.integer("min", minimum=1)),
        max=present(reader.integer("max", minimum=1)),
        default=reader.integer("default", required=False, minimum=1),
        sources=reader.sources(),
        clinic_editable=reader.flag("clinic_editable", default=False),
    )
    if result.min > result.max:
        raise reader.fail("min", "is above max")
    if result.default is not None and result.default not in result:
        raise reader.fail("default", "is outside min-max")
    reader.done()
    return result


def present(value: Any) -> Any:
    # Narrows "X | None" from a required read; the reader already refused None.
    assert value is not None
    return value
