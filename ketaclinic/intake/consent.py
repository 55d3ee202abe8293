"""Consent documents as versioned data, and what makes a signature valid (pure).

Each treatment's consent is a YAML file in ``data/consent/``: the plain-language text the
patient reads, the routes it covers, its version, its sources and who reviewed it. The patient
signs the exact text shown: the signature keeps the version and the SHA-256 of that text, so a
changed text (a new version) is visibly not what was signed and needs a new signature.

Pure module: no Django import.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).parent / "data" / "consent"


class ConsentDocumentError(ValueError):
    """A consent document file that cannot be used (a bug in the shipped data)."""


@dataclass(frozen=True)
class ConsentDocument:
    code: str
    title: str
    routes: tuple[str, ...]
    version: int
    text: str
    sources: tuple[str, ...]
    reviewed_by: str = ""
    reviewed_on: dt.date | None = None

    @property
    def sha256(self) -> str:
        return text_sha256(self.text)

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.text.split("\n\n") if p.strip()]


def text_sha256(text: str) -> str:
    """The digest of the exact text shown (UTF-8), kept with the signature."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def document_from(raw: Any, where: str = "consent") -> ConsentDocument:
    if not isinstance(raw, Mapping):
        raise ConsentDocumentError(f"{where}: expected a mapping")
    for key in ("code", "title", "routes", "version", "text", "sources"):
        if not raw.get(key):
            raise ConsentDocumentError(f"{where}: {key!r} is required")
    version = raw["version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ConsentDocumentError(f"{where}: version must be a whole number from 1")
    reviewed_on = raw.get("reviewed_on")
    if reviewed_on is not None and not isinstance(reviewed_on, dt.date):
        raise ConsentDocumentError(f"{where}: reviewed_on must be a date (YYYY-MM-DD)")
    return ConsentDocument(
        code=str(raw["code"]),
        title=str(raw["title"]),
        routes=tuple(str(r) for r in raw["routes"]),
        version=version,
        text=str(raw["text"]).strip() + "\n",
        sources=tuple(str(s) for s in raw["sources"]),
        reviewed_by=str(raw.get("reviewed_by") or ""),
        reviewed_on=reviewed_on,
    )


def documents() -> dict[str, ConsentDocument]:
    """Every consent document shipped, by code; each route is covered by one document."""
    return documents_in(DATA_DIR)


@cache
def documents_in(directory: Path) -> dict[str, ConsentDocument]:
    found: dict[str, ConsentDocument] = {}
    covered: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        with path.open(encoding="utf-8") as handle:
            document = document_from(yaml.safe_load(handle), path.name)
        if document.code in found:
            raise ConsentDocumentError(f"{path.name}: code {document.code!r} is used twice")
        for route in document.routes:
            if route in covered:
                raise ConsentDocumentError(
                    f"{path.name}: route {route!r} is already covered by {covered[route]!r}"
                )
            covered[route] = document.code
        found[document.code] = document
    return found


def document_for_route(route: str) -> ConsentDocument | None:
    """The consent a session on ``route`` needs, or ``None`` when none is shipped."""
    for document in documents().values():
        if route in document.routes:
            return document
    return None


def normalised_name(name: str) -> str:
    """A typed name compared without case, accents' composition or spacing differences."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def name_matches(typed: str, given_name: str, family_name: str) -> bool:
    """Whether the typed signature is the patient's full name on the record."""
    return bool(typed.strip()) and normalised_name(typed) == normalised_name(
        f"{given_name} {family_name}"
    )
