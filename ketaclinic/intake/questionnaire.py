"""The patient's intake questionnaire: what is asked, and checking the answers (pure).

The medical-history questions are data (``data/intake_history.yaml``), each one a finding of
the screening vocabulary. The rest are fixed parts: current medicines, earlier
antidepressants, therapy/TMS/ECT, substance use, pregnancy, an emergency contact and the person
who drives the patient home. :func:`check` returns the cleaned answers and the problems per
field; :func:`reported_items` turns clean answers into the items a clinician reviews one by
one. Nothing here is a clinical fact: it is what the patient said.

Pure module: no Django import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

DATA_FILE = Path(__file__).parent / "data" / "intake_history.yaml"

PREGNANCY = {
    "not_pregnant": "Not pregnant and not breastfeeding",
    "pregnant": "Pregnant",
    "breastfeeding": "Breastfeeding",
    "not_applicable": "Not applicable to me",
}
PREGNANCY_FINDINGS = {"pregnant": "pregnant", "breastfeeding": "breastfeeding"}
OUTCOMES = {
    "no_response": "It did not help",
    "partial_response": "It helped a little",
    "response": "It helped",
    "not_tolerated": "I stopped because of side effects",
    "ongoing": "I am still taking it",
}
TREATMENT_KINDS = {
    "psychotherapy": "Talking therapy",
    "tms": "TMS (magnetic stimulation)",
    "ect": "ECT (electroconvulsive therapy)",
    "ketamine": "Ketamine",
    "esketamine": "Esketamine (Spravato)",
}
MAX_ROWS = 8
MAX_TEXT = 200
MAX_LONG_TEXT = 2000

# Row fields of the list parts: name -> (required, max length).
ROW_FIELDS: dict[str, dict[str, tuple[bool, int]]] = {
    "medications": {"name": (True, 100), "dose": (False, 100), "frequency": (False, 100)},
    "trials": {"drug": (True, 100), "dose": (False, 100), "weeks": (False, 10)},
    "treatments": {"description": (False, MAX_TEXT)},
}


@dataclass(frozen=True)
class Question:
    code: str
    section: str
    question: str


@cache
def questions(path: Path = DATA_FILE) -> tuple[Question, ...]:
    with path.open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    return tuple(Question(q["code"], q["section"], q["question"]) for q in raw["questions"])


def question_for(code: str) -> Question | None:
    return next((q for q in questions() if q.code == code), None)


@dataclass(frozen=True)
class ReportedItem:
    """One thing the patient reported, for a clinician to confirm or set aside."""

    kind: str  # finding, medication, trial, treatment, pregnancy, substance, contact, driver
    label: str
    data: dict[str, Any]


def _text(value: Any, limit: int) -> tuple[str, str | None]:
    if value is None:
        return "", None
    if not isinstance(value, str):
        return "", "must be text"
    value = " ".join(value.replace("\x00", "").split())
    if len(value) > limit:
        return "", f"must be at most {limit} characters"
    return value, None


def _rows(part: str, value: Any, errors: dict[str, str]) -> list[dict[str, str]]:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        errors[part] = "must be a list"
        return []
    if len(value) > MAX_ROWS:
        errors[part] = f"at most {MAX_ROWS} entries"
        return []
    rows = []
    for index, raw in enumerate(value):
        where = f"{part}[{index}]"
        if not isinstance(raw, Mapping):
            errors[where] = "must be an object"
            continue
        row: dict[str, str] = {}
        for name, (required, limit) in ROW_FIELDS[part].items():
            text, problem = _text(raw.get(name), limit)
            if problem:
                errors[f"{where}.{name}"] = problem
            elif required and not text:
                errors[f"{where}.{name}"] = "is required"
            row[name] = text
        if part in ("trials", "treatments"):
            outcome = raw.get("outcome") or ""
            if outcome not in OUTCOMES:
                errors[f"{where}.outcome"] = "choose how it went: " + ", ".join(OUTCOMES)
            row["outcome"] = outcome
        if part == "treatments":
            kind = raw.get("kind") or ""
            if kind not in TREATMENT_KINDS:
                errors[f"{where}.kind"] = "choose one of: " + ", ".join(TREATMENT_KINDS)
            row["kind"] = kind
        rows.append(row)
    return rows


def _person(part: str, value: Any, errors: dict[str, str]) -> dict[str, str]:
    if not isinstance(value, Mapping):
        errors[part] = "give a name and a phone number"
        return {"name": "", "phone": ""}
    person = {}
    for name, limit in (("name", 150), ("phone", 30)):
        text, problem = _text(value.get(name), limit)
        if problem or not text:
            errors[f"{part}.{name}"] = problem or "is required"
        person[name] = text
    return person


def check(answers: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The cleaned answers and the problems, ``{field: message}``; empty problems means valid."""
    errors: dict[str, str] = {}
    if not isinstance(answers, Mapping):
        return {}, {"answers": "must be an object"}
    known = {q.code for q in questions()}
    history = answers.get("history") or []
    if not isinstance(history, list) or not all(isinstance(c, str) for c in history):
        errors["history"] = "must be a list of question codes"
        history = []
    unknown = sorted(set(history) - known)
    if unknown:
        errors["history"] = f"unknown question codes: {', '.join(unknown[:5])}"
    pregnancy = answers.get("pregnancy")
    if pregnancy not in PREGNANCY:
        errors["pregnancy"] = "choose one of: " + ", ".join(PREGNANCY)
    details, problem = _text(answers.get("substance_details"), MAX_LONG_TEXT)
    if problem:
        errors["substance_details"] = problem
    clean = {
        "history": [q.code for q in questions() if q.code in set(history)],
        "medications": _rows("medications", answers.get("medications"), errors),
        "trials": _rows("trials", answers.get("trials"), errors),
        "treatments": _rows("treatments", answers.get("treatments"), errors),
        "substance_details": details,
        "pregnancy": pregnancy if pregnancy in PREGNANCY else "",
        "emergency_contact": _person("emergency_contact", answers.get("emergency_contact"), errors),
        "driver": _person("driver", answers.get("driver"), errors),
    }
    return clean, errors


def reported_items(clean: Mapping[str, Any]) -> list[ReportedItem]:
    """One reviewable item per thing the patient reported, in the order of the form."""
    items = [
        ReportedItem("finding", question_for(code).question, {"finding": code})
        for code in clean["history"]
    ]
    finding = PREGNANCY_FINDINGS.get(clean["pregnancy"])
    items.append(
        ReportedItem(
            "pregnancy",
            f"Pregnancy: {PREGNANCY[clean['pregnancy']]}",
            {"pregnancy": clean["pregnancy"], "finding": finding},
        )
    )
    for row in clean["medications"]:
        words = " ".join(filter(None, (row["name"], row["dose"], row["frequency"])))
        items.append(ReportedItem("medication", f"Takes {words}", dict(row)))
    for row in clean["trials"]:
        words = " ".join(filter(None, (row["drug"], row["dose"])))
        weeks = f" for {row['weeks']} weeks" if row["weeks"] else ""
        label = f"Tried {words}{weeks}: {OUTCOMES[row['outcome']].lower()}"
        items.append(ReportedItem("trial", label, dict(row)))
    for row in clean["treatments"]:
        label = f"{TREATMENT_KINDS[row['kind']]}: {OUTCOMES[row['outcome']].lower()}"
        if row["description"]:
            label += f" ({row['description']})"
        items.append(ReportedItem("treatment", label, dict(row)))
    if clean["substance_details"]:
        items.append(
            ReportedItem(
                "substance",
                f"About alcohol and drugs: {clean['substance_details']}",
                {"details": clean["substance_details"]},
            )
        )
    contact = clean["emergency_contact"]
    items.append(
        ReportedItem(
            "contact", f"Emergency contact: {contact['name']}, {contact['phone']}", contact
        )
    )
    driver = clean["driver"]
    items.append(
        ReportedItem("driver", f"Drives me home: {driver['name']}, {driver['phone']}", driver)
    )
    return items
