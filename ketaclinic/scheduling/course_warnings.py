"""Warnings about a course being booked, from later apps (billing's prior authorization).

Scheduling may not import later apps, so they register a provider from their
AppConfig.ready(). A warning never blocks a booking: the desk sees it on the preview and
result pages, and the course-booking API returns it with each visit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class CourseWarning:
    number: int | None  # the visit's number in the course; None for the whole course
    message: str


# provider(patient, plan or None, items) -> warnings
Provider = Callable[[object, object, Sequence], list[CourseWarning]]

_PROVIDERS: dict[str, Provider] = {}


def register_provider(name: str, provider: Provider) -> None:
    """Register (or replace) ``name``'s provider; registering twice changes nothing."""
    _PROVIDERS[name] = provider


def course_warnings(patient, plan, items: Sequence) -> list[CourseWarning]:
    found: list[CourseWarning] = []
    for provider in _PROVIDERS.values():
        found.extend(provider(patient, plan, items))
    return found


def for_visit(warnings: Sequence[CourseWarning], number: int | None) -> list[str]:
    """The messages that concern visit ``number``: the course-wide ones and its own."""
    return [w.message for w in warnings if w.number is None or w.number == number]
