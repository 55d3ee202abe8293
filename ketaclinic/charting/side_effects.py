"""The side effects a session chart can record: the vocabulary, its categories, severities.

The vocabulary is data, ``data/side_effects.yaml``, each effect naming the documents that
list it.

Pure module: no Django import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ketaclinic.charting.data_files import PolicyError, load_yaml, require


@dataclass(frozen=True)
class SideEffect:
    """A side effect the chart can record, with the seeds that list it."""

    code: str
    label: str
    category: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class SideEffectVocabulary:
    """Side effects by code, their categories and the severity scale."""

    effects: tuple[SideEffect, ...]
    categories: Mapping[str, str]
    severities: tuple[str, ...]
    source: str

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> SideEffectVocabulary:
        """Build the vocabulary from the shape of ``data/side_effects.yaml``."""
        categories = dict(require(mapping, "categories", "side effects"))
        effects = []
        for item in require(mapping, "effects", "side effects"):
            code = str(require(item, "code", "effect"))
            if item.get("category") not in categories:
                raise PolicyError(f"side effect {code}: unknown category {item.get('category')!r}")
            sources = tuple(require(item, "sources", code))
            if not sources:
                raise PolicyError(f"side effect {code}: name at least one source")
            effects.append(SideEffect(code, str(item["label"]), item["category"], sources))
        if len({e.code for e in effects}) != len(effects):
            raise PolicyError("side effects: codes must be unique")
        severities = tuple(str(s["code"]) for s in require(mapping, "severities", "side effects"))
        return cls(tuple(effects), MappingProxyType(categories), severities, str(mapping["source"]))

    def get(self, code: str) -> SideEffect:
        """The side effect with ``code``; :class:`PolicyError` when unknown."""
        for effect in self.effects:
            if effect.code == code:
                return effect
        raise PolicyError(f"{code!r} is not a side effect in the vocabulary")

    def in_category(self, category: str) -> tuple[SideEffect, ...]:
        """Side effects of one category (``common``, ``rare``, ``risk``, ``long_term``)."""
        return tuple(e for e in self.effects if e.category == category)

    def check(self, code: str, severity: str) -> SideEffect:
        """Validate a recorded side effect and severity; :class:`PolicyError` names the bad one."""
        effect = self.get(code)
        if severity not in self.severities:
            raise PolicyError(f"severity {severity!r} is not one of {', '.join(self.severities)}")
        return effect


def load_side_effects(name: str = "side_effects.yaml") -> SideEffectVocabulary:
    """Load the side-effect vocabulary shipped in ``charting/data``."""
    return SideEffectVocabulary.from_mapping(load_yaml(name))


SIDE_EFFECTS = load_side_effects()
