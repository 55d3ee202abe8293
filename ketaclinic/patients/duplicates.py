"""Is this new patient someone the clinic already knows? Pure matching, no database.

Two records name the same person when family name, given name and date of birth agree
once case and accents are set aside: "José Núñez" and "JOSE NUNEZ", "Åsa" and "åsa". A
second record for one person splits their history (allergies, doses, outcomes) in two, so
the front desk sees the match and creates a new record only on purpose.

Names are compared here, in Python, rather than in SQL: SQLite and PostgreSQL fold case
and accents differently (and PostgreSQL's ``unaccent`` is an extension), while the
candidates for one date of birth are few.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass


def name_key(name: str) -> str:
    """The name as matching sees it: no diacritics, case-folded, single-spaced.

    NFKD splits "é" into "e" and a combining accent (and compatibility forms such as the
    ligature "ﬁ" into "fi"); the combining marks are dropped; ``casefold`` folds case
    more thoroughly than ``lower`` ("ß" and "SS" agree).
    """
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


@dataclass(frozen=True)
class Identity:
    """What identifies a person for this check."""

    given_name: str
    family_name: str
    date_of_birth: dt.date | None

    @property
    def key(self) -> tuple[str, str, dt.date | None]:
        return (name_key(self.family_name), name_key(self.given_name), self.date_of_birth)


def same_person(a: Identity, b: Identity) -> bool:
    """Same family name, given name and date of birth, ignoring case and accents."""
    if a.date_of_birth is None or b.date_of_birth is None:
        return False
    return a.key == b.key


def matching(new: Identity, existing: Iterable[tuple[int, Identity]]) -> list[int]:
    """The ids of the existing records that name the same person as ``new``, in order."""
    return [record_id for record_id, known in existing if same_person(new, known)]
