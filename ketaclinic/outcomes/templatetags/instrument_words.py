"""``{{ "phq9, pain_nrs"|instrument_names }}``: instruments by their names, as people read them.

The instrument codes stay in the records and the API; pages show each definition's name.
"""

from __future__ import annotations

from django import template

from ketaclinic.outcomes.definitions import shipped_instruments

register = template.Library()


@register.filter
def instrument_names(codes: str) -> str:
    """Comma-separated instrument codes as their names; an unknown code is shown as it is."""
    known = shipped_instruments()
    names = [
        known[code].name if code in known else code
        for code in (part.strip() for part in (codes or "").split(","))
        if code
    ]
    return ", ".join(names)
