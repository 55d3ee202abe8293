"""``{{ plan.schedule_code|schedule_label }}``: a course schedule by its label, as people read it.

The code stays in the plan and the API; pages show the catalog's label.
"""

from __future__ import annotations

from django import template

from ketaclinic.protocols.catalog import UnknownCodeError, get_schedule

register = template.Library()


@register.filter
def schedule_label(code: str) -> str:
    if not code:
        return ""
    try:
        return get_schedule(code).label
    except UnknownCodeError:
        return code
