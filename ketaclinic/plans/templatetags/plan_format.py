"""``{{ dose|num }}``: a Decimal as a clinician writes it, without trailing zeros (0.5, 48.8, 84)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def num(value) -> str:
    if value is None or value == "":
        return ""
    try:
        number = Decimal(str(value)).normalize()
    except InvalidOperation:
        return str(value)
    return format(number, "f")
