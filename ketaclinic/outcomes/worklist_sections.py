"""Sections later apps add to the clinicians' worklist (billing's prior authorizations).

Outcomes may not import later apps; they register from their AppConfig.ready(). A section is
``section(request) -> dict | None``: a dict with ``template`` (rendered with the dict as
``section``) or None when there is nothing to show this user.
"""

from __future__ import annotations

from collections.abc import Callable

Section = Callable[[object], dict | None]

_SECTIONS: dict[str, Section] = {}


def register_section(name: str, section: Section) -> None:
    _SECTIONS[name] = section


def sections_for(request) -> list[dict]:
    shown = []
    for section in _SECTIONS.values():
        found = section(request)
        if found is not None:
            shown.append(found)
    return shown
