"""Numeric columns straight from the database, for the cohort's column-wise arithmetic.

The cohort reads a few hundred thousand numbers on a large clinic; model instances and
per-value converters would cost more than the arithmetic. These helpers run a queryset's
SQL on the cursor and hand back numpy columns, with SQL functions that turn datetimes
and dates into plain numbers (seconds or days since 1970).
"""

from __future__ import annotations

from itertools import chain

import numpy as np
from django.db import connection
from django.db.models import FloatField, Func, IntegerField


class EpochSeconds(Func):
    """Seconds since 1970 (UTC) of a datetime column, as a plain number."""

    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        # julianday() rather than strftime('%s'): no percent sign to escape twice.
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)",
        )

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="CAST(EXTRACT(EPOCH FROM %(expressions)s) AS DOUBLE PRECISION)",
        )

    def as_mysql(self, compiler, connection, **extra):  # pragma: no cover - not supported
        return self.as_sql(compiler, connection, template="UNIX_TIMESTAMP(%(expressions)s)")


class DaysSinceEpoch(Func):
    """Days since 1970-01-01 of a date column."""

    output_field = IntegerField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) - 2440587.5 AS INTEGER)",
        )

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="(%(expressions)s - DATE '1970-01-01')")


def fetch_columns(queryset, *names: str) -> list[np.ndarray]:
    """Run ``queryset.values_list(*names)`` straight on the cursor, as numpy columns.

    Bypasses model instances and per-value converters: the columns must be numbers.
    """
    rows = fetch_rows(queryset, *names)
    if not rows:
        return [np.empty(0) for _ in names]
    width = len(names)
    try:
        # fromiter over the flattened tuples is about twice as fast as np.array(rows).
        flat = np.fromiter(chain.from_iterable(rows), dtype=float, count=len(rows) * width)
        matrix = flat.reshape(-1, width)
    except TypeError:  # a NULL somewhere: the slower path turns None into NaN
        matrix = np.array(rows, dtype=float)
    return [matrix[:, i] for i in range(width)]


def fetch_rows(queryset, *names: str) -> list[tuple]:
    """``queryset.values_list(*names)`` as raw tuples, straight from the cursor."""
    sql, params = queryset.values_list(*names).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def lookup(sorted_ids: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``ids`` in ``sorted_ids``, and which of them are there at all."""
    where = np.searchsorted(sorted_ids, ids)
    found = np.zeros(len(ids), dtype=bool)
    inside = where < len(sorted_ids)
    found[inside] = sorted_ids[where[inside]] == ids[inside]
    return np.where(found, where, 0), found
