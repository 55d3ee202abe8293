"""What keeps a checked-in visit from leaving check-in, as later apps declare it.

Scheduling may not import charting (the dependency order runs the other way), yet a visit
whose treatment session is already open must not be un-checked-in or cancelled from the
calendar: the session would be left without its visit. Charting registers a check here from
its ``AppConfig.ready()``, as Django's admin does with ``admin.site.register``.
"""

from __future__ import annotations

from collections.abc import Callable

HoldCheck = Callable[[object], "str | None"]
_checks: list[HoldCheck] = []


def register(check: HoldCheck) -> None:
    """Add a check that answers why ``appointment`` must stay checked in, or None."""
    if check not in _checks:
        _checks.append(check)


def reason_to_stay_checked_in(appointment) -> str | None:
    for check in _checks:
        reason = check(appointment)
        if reason:
            return reason
    return None
