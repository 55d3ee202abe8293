"""Reading the clinical data files shipped in ``charting/data``.

The session's clinical knowledge (vital-sign policy, monitoring schedules, discharge
criteria, side-effect vocabulary) is YAML, each entry naming its source. The small helpers
here read a file and check a mapping, raising :class:`PolicyError` that says what is wrong
and where, so a clinic that edits a file gets a message it can act on.

Pure module: no Django import.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import yaml

from ketaclinic.charting.vitals import DATA_DIR, as_decimal, format_number


class PolicyError(ValueError):
    """A policy, schedule or vocabulary mapping that cannot be used; says what and where."""


def load_yaml(name: str) -> Any:
    """The parsed content of ``charting/data/<name>``."""
    with (DATA_DIR / name).open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def require(mapping: Mapping[str, Any], key: str, where: str) -> Any:
    """``mapping[key]``, or :class:`PolicyError` naming the key and where it was missing."""
    if not isinstance(mapping, Mapping) or key not in mapping:
        raise PolicyError(f"{where}: {key!r} is required")
    return mapping[key]


def decimal(value: Any, where: str) -> Decimal:
    """A number of a data file as ``Decimal``; :class:`PolicyError` for anything else."""
    try:
        return as_decimal(value, where)
    except ValueError as error:
        raise PolicyError(f"{where}: {error}") from None


def minutes_text(value: Decimal) -> str:
    """``5 min``, ``2.5 min``."""
    return f"{format_number(value)} min"
