"""Open urgent safety items, from whichever apps have them, for the banner on staff pages.

``web`` imports no app, so each app that holds urgent items registers a source in its
``AppConfig.ready()`` (as ``admin.site.register`` does): a callable ``source(user)`` returning
a list of ``UrgentItem`` the user may see. Sources answer in installed-app order, and each
should cost one query (the banner is on every staff page; a test pins the count).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class UrgentItem:
    title: str  # what the banner says, in staff words
    url: str  # where it is resolved
    since: object = None  # datetime the item opened, for ordering and "waiting since"


Source = Callable[[object], list[UrgentItem]]
_SOURCES: dict[str, Source] = {}


def register_source(name: str, source: Source) -> None:
    """Register (or replace, on a reload) the source called ``name``."""
    _SOURCES[name] = source


def registered_sources() -> dict[str, Source]:
    return dict(_SOURCES)


def open_items(user) -> list[UrgentItem]:
    """Every open urgent item ``user`` may see, from every registered source."""
    if not getattr(user, "is_authenticated", False):
        return []
    items: list[UrgentItem] = []
    for source in _SOURCES.values():
        items.extend(source(user))
    return items


def banner(request) -> dict:
    """Context processor: ``urgent_items`` for staff pages (a lazy list; only the banner reads it)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(user, "role", "") == "patient":
        return {"urgent_items": []}
    return {"urgent_items": _Lazy(lambda: open_items(user))}


class _Lazy:
    """Evaluated once, on first use: pages that never show the banner pay no query."""

    def __init__(self, compute: Callable[[], list[UrgentItem]]):
        self._compute = compute
        self._items: list[UrgentItem] | None = None

    def _get(self) -> list[UrgentItem]:
        if self._items is None:
            self._items = self._compute()
        return self._items

    def __iter__(self):
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __bool__(self) -> bool:
        return bool(self._get())
