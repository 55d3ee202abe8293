"""Where billing shows itself on earlier apps' pages (chart tab, plan page, worklist, booking)."""

from __future__ import annotations


def register() -> None:
    """Filled in as each earlier registry is wired (coverage tab, plan section, booking warnings)."""
