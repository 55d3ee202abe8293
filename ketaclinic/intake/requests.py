"""Checking what a stranger sends on the public request form. Pure: no database.

Every problem is reported against the field it concerns, in words the person can act on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from . import vocabulary
from .models import PreferredContact

EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)
# A telephone number as people write it: digits with spaces, dashes, dots, brackets, and an
# optional leading +; 7–15 digits (ITU-T E.164 allows at most 15).
PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ().\-]+$")
MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 7, 15
TEXT_LIMITS = {
    "given_name": 100,
    "family_name": 100,
    "email": 254,
    "phone": 30,
    "state_or_region": 100,
    "current_treatment": 2000,
    "message": 4000,
}
REQUIRED_TEXT = ("given_name", "family_name", "email", "phone", "state_or_region")
# Bodies above this are refused before they are read (413): the whole form fits in well under.
MAX_BODY_BYTES = 16 * 1024


def problems(values: dict[str, Any], today: dt.date) -> dict[str, str]:
    """Field name → what is wrong with it; empty when the request may be stored."""
    found: dict[str, str] = {}
    for name, limit in TEXT_LIMITS.items():
        text = values.get(name, "")
        if not isinstance(text, str):
            found[name] = "must be text"
        elif "\x00" in text:
            found[name] = "may not contain NUL characters"
        elif len(text) > limit:
            found[name] = f"must be at most {limit} characters"
        elif name in REQUIRED_TEXT and not text.strip():
            found[name] = "is required"
    if "email" not in found:
        try:
            validate_email(values["email"].strip())
        except ValidationError:
            found["email"] = "must be an email address, like name@example.org"
    if "phone" not in found and (message := phone_problem(values["phone"])):
        found["phone"] = message
    if message := birth_date_problem(values.get("date_of_birth"), today):
        found["date_of_birth"] = message
    if message := conditions_problem(values.get("conditions")):
        found["conditions"] = message
    if values.get("preferred_contact") not in PreferredContact.values:
        found["preferred_contact"] = "must be one of " + ", ".join(PreferredContact.values)
    if values.get("consent_to_contact") is not True:
        found["consent_to_contact"] = "must be ticked: we can only answer if we may contact you"
    return found


def phone_problem(phone: str) -> str:
    digits = sum(ch.isdigit() for ch in phone)
    if not PHONE_CHARACTERS.match(phone.strip()) or not (
        MIN_PHONE_DIGITS <= digits <= MAX_PHONE_DIGITS
    ):
        return (
            f"must be a telephone number of {MIN_PHONE_DIGITS}–{MAX_PHONE_DIGITS} digits "
            "(spaces, dashes, brackets and a leading + are fine)"
        )
    return ""


def birth_date_problem(value, today: dt.date) -> str:
    if not isinstance(value, dt.date):
        return "must be a date (YYYY-MM-DD)"
    if value > today:
        return "cannot be in the future"
    if value < EARLIEST_BIRTH_DATE:
        return f"cannot be before {EARLIEST_BIRTH_DATE:%Y}"
    return ""


def conditions_problem(codes) -> str:
    known = vocabulary.conditions()
    if not isinstance(codes, list) or not codes:
        return "choose at least one (or 'other')"
    unknown = [str(code) for code in codes if code not in known]
    if unknown:
        return f"unknown: {', '.join(unknown)}; choose from {', '.join(known)}"
    return ""


def cleaned(values: dict[str, Any]) -> dict[str, Any]:
    """The values as stored: text trimmed, conditions unique in the form's order."""
    out = dict(values)
    for name in TEXT_LIMITS:
        out[name] = values.get(name, "").strip()
    chosen = set(values["conditions"])
    out["conditions"] = [code for code in vocabulary.conditions() if code in chosen]
    return out


def fold(text: str) -> str:
    """Case, accents and spacing ignored: "José  Núñez" and "jose nunez" are one person."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


def fingerprint(given_name: str, family_name: str, date_of_birth: dt.date, email: str) -> str:
    """Who sent the request, for folding a resubmission into the first one."""
    parts = [fold(given_name), fold(family_name), date_of_birth.isoformat(), fold(email)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
