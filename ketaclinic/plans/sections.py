"""Sections later apps add to the plan page (billing's prior authorization).

Plans may not import later apps; they register a section from their AppConfig.ready(). A
section is ``section(request, plan) -> dict | None``: a dict with ``template`` (rendered
with the dict as ``section``) or None when the user may not see it.
"""

from __future__ import annotations

from collections.abc import Callable

Section = Callable[[object, object], dict | None]

_SECTIONS: dict[str, Section] = {}


def register_section(name: str, section: Section) -> None:
    _SECTIONS[name] = section


def sections_for(request, plan) -> list[dict]:
    shown = []
    for section in _SECTIONS.values():
        found = section(request, plan)
        if found is not None:
            shown.append(found)
    return shown
