"""Clinic-local calendar days as whole numbers (days since 1970-01-01), column-wise.

A score answered at 21:00 in New York is on that evening's day, not on the next UTC day:
the cohort's windows and intervals are counted in the clinic's days. ``local_days``
converts a column of UTC instants with a cached table of the zone's offset changes, so a
large cohort costs one ``searchsorted`` rather than a ``datetime`` per value.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings

DAY_S = 86_400
# "No such day": far beyond any real day, and still safe to add a few days to.
NO_DAY = np.iinfo(np.int64).max // 4
EPOCH = dt.date(1970, 1, 1)


def _offset(zone: ZoneInfo, t: int) -> int:
    return int(dt.datetime.fromtimestamp(t, tz=zone).utcoffset().total_seconds())


def _change_instant(zone: ZoneInfo, low: int, high: int, before: int) -> int:
    """The first second in (low, high] whose offset is no longer ``before`` (bisection)."""
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(zone, middle) == before:
            low = middle
        else:
            high = middle
    return high


@lru_cache(maxsize=16)
def _transitions(zone_name: str, first_day: int, last_day: int) -> tuple[np.ndarray, np.ndarray]:
    """UTC instants where the zone's offset changes in the range, and the offset from each."""
    zone = ZoneInfo(zone_name)
    times = [first_day * DAY_S]
    offsets = [_offset(zone, times[0])]
    for day in range(first_day + 1, last_day + 1):
        t = day * DAY_S
        current = _offset(zone, t)
        if current != offsets[-1]:
            times.append(_change_instant(zone, t - DAY_S, t, offsets[-1]))
            offsets.append(current)
    return np.array(times, dtype=np.int64), np.array(offsets, dtype=np.int64)


def local_days(epoch_s: np.ndarray, zone_name: str | None = None) -> np.ndarray:
    """Clinic-local calendar day (days since 1970-01-01) of each UTC instant."""
    epoch_s = np.asarray(epoch_s, dtype=np.int64)
    if epoch_s.size == 0:
        return epoch_s
    zone_name = zone_name or settings.TIME_ZONE
    first = int(epoch_s.min() // DAY_S) - 2
    last = int(epoch_s.max() // DAY_S) + 2
    # Cache on whole years so repeated requests share one table.
    first, last = first - first % 365, last + (365 - last % 365)
    times, offsets = _transitions(zone_name, first, last)
    index = np.searchsorted(times, epoch_s, side="right") - 1
    return (epoch_s + offsets[np.maximum(index, 0)]) // DAY_S


def to_date(day: float | int) -> dt.date | None:
    """The date of a day number; None for a missing day (NaN or ``NO_DAY``)."""
    if day is None or day != day or day >= NO_DAY:  # day != day: NaN
        return None
    return EPOCH + dt.timedelta(days=int(day))


def to_day(value: dt.date) -> int:
    """The day number of a date."""
    return (value - EPOCH).days
