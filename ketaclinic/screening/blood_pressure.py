"""Today's charted blood pressure, which the screening form offers instead of a typed one.

Readings are charted in treatment sessions, and charting comes after screening in the
clinic's order: charting registers its reader here from ``ChartingConfig.ready()``.
A reader answers the latest final reading of the day (with ``at``, ``systolic_mmhg``,
``diastolic_mmhg``) or None.
"""

from __future__ import annotations

from collections.abc import Callable

Reader = Callable[[object], object]
_readers: list[Reader] = []


def register_reader(reader: Reader) -> None:
    """Add a source of today's blood pressure for a patient."""
    if reader not in _readers:
        _readers.append(reader)


def blood_pressure_today(patient):
    """The latest blood pressure charted for ``patient`` today, or None."""
    for reader in _readers:
        reading = reader(patient)
        if reading is not None:
            return reading
    return None
