"""Screening findings the patient record already states, so nobody is asked them twice.

Pure Python, no Django: the caller passes the record's active diagnoses and medications as
plain tuples. What maps to what is data: diagnoses in ``screening/data/record_findings.yaml``
(each mapping names its basis), medications through the ``screening`` column of the record's
medication classes (``patients/data/medication_classes.yaml``). A finding is derived only where
the record states it plainly; everything else is answered on the screening form.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from ketaclinic.patients import vocabulary as record_vocabulary

from . import rules

__all__ = [
    "DerivedFinding",
    "DiagnosisMapping",
    "MappingError",
    "derive_findings",
    "diagnosis_mappings",
    "oral_antidepressants",
    "parse_mappings",
]


class MappingError(ValueError):
    """The record-findings data file is malformed: a bug in the shipped data."""


@dataclass(frozen=True)
class DiagnosisMapping:
    """An ICD-10 code and the screening findings it states, with the basis."""

    icd10: str
    findings: tuple[str, ...]
    basis: str


@dataclass(frozen=True)
class DerivedFinding:
    """A finding read from the record: which entries state it, and on what basis."""

    code: str
    because: tuple[str, ...]
    basis: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "because": list(self.because), "basis": list(self.basis)}


def parse_mappings(document: Any) -> dict[str, DiagnosisMapping]:
    """Validate the record-findings document; the mappings by ICD-10 code."""
    if not isinstance(document, dict) or not isinstance(document.get("diagnoses"), list):
        raise MappingError("record_findings: expected a mapping with a 'diagnoses' list")
    reportable = set(rules.reportable_codes())
    known_icd10 = record_vocabulary.icd10_codes()
    result: dict[str, DiagnosisMapping] = {}
    for index, raw in enumerate(document["diagnoses"]):
        where = f"record_findings.diagnoses[{index}]"
        if not isinstance(raw, dict) or set(raw) != {"icd10", "findings", "basis"}:
            raise MappingError(f"{where}: expected exactly icd10, findings and basis")
        code = raw["icd10"]
        if code not in known_icd10:
            raise MappingError(f"{where}: {code!r} is not an ICD-10 code the record accepts")
        if code in result:
            raise MappingError(f"{where}: {code!r} is mapped twice")
        findings = raw["findings"]
        if not isinstance(findings, list) or not findings:
            raise MappingError(f"{where}.findings: expected a non-empty list")
        unknown = [finding for finding in findings if finding not in reportable]
        if unknown:
            raise MappingError(f"{where}.findings: {unknown} are not reportable finding codes")
        basis = raw["basis"]
        if not isinstance(basis, str) or not basis.strip():
            raise MappingError(f"{where}.basis: every mapping names its basis")
        result[code] = DiagnosisMapping(code, tuple(findings), " ".join(basis.split()))
    return result


@cache
def diagnosis_mappings() -> dict[str, DiagnosisMapping]:
    """The shipped mappings, loaded and validated once."""
    text = (
        resources.files(__package__)
        .joinpath("data", "record_findings.yaml")
        .read_text(encoding="utf-8")
    )
    return parse_mappings(yaml.safe_load(text))


def _medication_sources() -> tuple[str, ...]:
    return ("the class of the medication on the clinic's medication list", *_class_source())


def _class_source() -> tuple[str, ...]:
    # The class file names its own basis at the top (REFERENCE.md sections 2 and 4).
    return (record_vocabulary.load("medication_classes.yaml")["source"],)


def derive_findings(
    *,
    diagnoses: Iterable[tuple[str, str]] = (),
    medications: Iterable[tuple[str, str]] = (),
) -> dict[str, DerivedFinding]:
    """Findings stated by active record entries, in screening-vocabulary order.

    Parameters
    ----------
    diagnoses : iterable of (icd10_code, display)
        Active diagnoses.
    medications : iterable of (name, drug_class)
        Active medications.

    Returns
    -------
    dict of str to DerivedFinding
        By finding code; ``because`` names each entry that states it.
    """
    because: dict[str, list[str]] = {}
    basis: dict[str, list[str]] = {}
    mappings = diagnosis_mappings()
    for icd10, display in diagnoses:
        mapping = mappings.get(icd10)
        if mapping is None:
            continue
        for code in mapping.findings:
            because.setdefault(code, []).append(f"diagnosis {icd10} {display}".strip())
            basis.setdefault(code, []).append(mapping.basis)
    classes = record_vocabulary.medication_classes()
    for name, drug_class in medications:
        code = classes.get(drug_class, {}).get("screening")
        if not code:
            continue
        display = classes[drug_class]["display"]
        because.setdefault(code, []).append(f"medication {name} ({display})")
        basis.setdefault(code, []).extend(_medication_sources())
    order = rules.vocabulary().order
    return {
        code: DerivedFinding(code, tuple(because[code]), tuple(dict.fromkeys(basis[code])))
        for code in sorted(because, key=lambda code: order[code])
    }


def oral_antidepressants(medications: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """Names of the active medications in an antidepressant class."""
    classes = record_vocabulary.medication_classes()
    return tuple(
        name
        for name, drug_class in medications
        if classes.get(drug_class, {}).get("antidepressant")
    )
