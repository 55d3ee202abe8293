"""``{{ event.to_status|auth_status }}``: a prior-authorization status by its label
("to_submit" → "To submit"); the code stays in the record and the API."""

from __future__ import annotations

from django import template

from ketaclinic.billing.models import AuthStatus

register = template.Library()


@register.filter
def auth_status(code: str) -> str:
    try:
        return AuthStatus(code).label
    except ValueError:
        return code
