"""Versioned data files of the PK engine (models, routes, variability), each entry sourced."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

_HERE = Path(__file__).resolve().parent


@cache
def load_data(name: str) -> dict[str, Any]:
    """Return the parsed YAML file ``name`` (e.g. ``"routes"``) from this folder, read once.

    Parameters
    ----------
    name : str
        File stem inside ``ketaclinic/pk/data/``.

    Returns
    -------
    dict
        The parsed document. Callers build frozen dataclasses from it and never mutate it.
    """
    with (_HERE / f"{name}.yaml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)
