"""``{{ code|finding }}``: a screening finding by its words (``cns_depressants`` → "takes
benzodiazepines, opioids or sedative hypnotics"), as the findings vocabulary words it.

Codes stay in the records and the API; pages show the vocabulary's text.
"""

from __future__ import annotations

from django import template

from ketaclinic.screening import rules

register = template.Library()


@register.filter
def finding(code: str) -> str:
    entry = rules.vocabulary().by_code.get(code)
    return entry.finding if entry is not None else code
