"""What later apps do when a plan is signed, inside the signing transaction.

Outcomes schedules the measures due over the course (baseline, before sessions, follow-ups).
It comes after plans in the clinic's order, so it registers here from its
``AppConfig.ready()``; a hook that raises undoes the signature with everything else.
"""

from __future__ import annotations

from collections.abc import Callable

SignHook = Callable[[object], object]
_hooks: list[SignHook] = []


def register(hook: SignHook) -> None:
    """Run ``hook(plan)`` whenever a plan is signed."""
    if hook not in _hooks:
        _hooks.append(hook)


def plan_signed(plan) -> None:
    """Tell every registered app that ``plan`` was just signed (call inside the transaction)."""
    for hook in _hooks:
        hook(plan)
