"""A database seeded before citations were reworded takes the shipped words on upgrade
(migration 0003): only citation text still naming a seed, REFERENCE.md or an evidence tag
changes; doses, rules and a clinic's own wording stay as stored."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ketaclinic.protocols.models import Protocol, seed_values
from ketaclinic.protocols.seeding import (
    OLD_CITATION,
    reword_shipped_citations,
    reworded,
    shipped_entries,
)

pytestmark = pytest.mark.django_db


def shipped(code: str) -> dict:
    return seed_values(next(raw for raw in shipped_entries() if raw["code"] == code))


def test_old_citations_take_the_shipped_words_and_nothing_else_changes():
    row = Protocol.objects.get(code="iv_racemic")
    words = shipped("iv_racemic")
    row.sources = "seeds 000, 002\nREFERENCE.md section 1"
    row.dose_sources = "Our own protocol committee, 2025"  # a clinic's wording, kept
    row.default_mg_per_kg_max = Decimal("0.75")  # a clinic's edit, kept
    row.fasting = {**row.fasting, "sources": ["seed 000 [V]"]}
    row.save()

    assert reword_shipped_citations() == ["iv_racemic"]

    row.refresh_from_db()
    assert row.sources == words["sources"]
    assert not OLD_CITATION.search(row.sources)
    assert row.fasting["sources"] == words["fasting"]["sources"]
    assert row.dose_sources == "Our own protocol committee, 2025"
    assert row.default_mg_per_kg_max == Decimal("0.75")


def test_a_database_in_the_shipped_words_is_left_alone():
    assert reword_shipped_citations() == []


def test_the_walk_keeps_what_it_cannot_match():
    stored = {"hours": 6, "sources": ["[V] label", "clinic note"], "gone": "seed 004"}
    shipped_now = {"hours": 8, "sources": ["Prescribing information", "Clinic policy"]}

    assert reworded(stored, shipped_now) == {
        "hours": 6,
        "sources": ["Prescribing information", "clinic note"],
        "gone": "seed 004",
    }
    assert reworded(["seed 000"], ["a", "b"]) == ["seed 000"]  # shapes differ: kept
