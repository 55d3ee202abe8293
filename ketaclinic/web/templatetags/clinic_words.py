"""Template filters that word codes for people: ``{% load clinic_words %}``.

``{{ event.action|words }}``, ``{{ name|field_label }}``, ``{{ pair|transition }}``,
``{% for field, value in event.detail|detail_lines %}`` and ``{{ event|who }}``; the rules
live in :mod:`ketaclinic.web.labels`.
"""

from __future__ import annotations

from django import template

from ketaclinic.web import labels

register = template.Library()

register.filter("words", labels.words)
register.filter("field_label", labels.field_label)
register.filter("transition", labels.transition)
register.filter("detail_lines", labels.detail_lines)


@register.filter
def who(event) -> str:
    """An audit event's actor: the username, or an automatic job's name in words."""
    return labels.who(event.actor_username, person=event.actor_id is not None)
