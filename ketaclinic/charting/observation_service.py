"""What the nurse observes once dosing has started: dissociation, side effects, adverse events.

Dissociation is rated on the clinic's 0–10 scale, with the CADSS-6 items when the clinic
offers them (``data/dissociation.yaml``); side effects come from the seeds' vocabulary
(``safety.SIDE_EFFECTS``) with a severity and what was done; an adverse event is described,
serious ones flagged for reporting and esketamine ones for the Spravato REMS.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError

from . import safety, vitals
from .models import AdverseEvent, DissociationRating, SessionStatus, SideEffect, TreatmentSession
from .session_service import (
    AFTER_START,
    audit,
    entry_time,
    require,
    require_status,
    write_locked,
)

# --------------------------------------------------------------------------------------
# Clinic options as data
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DissociationOptions:
    """The 0–10 scale and the CADSS-6 clinic option (``data/dissociation.yaml``)."""

    scale_min: int
    scale_max: int
    scale_source: str
    cadss_offered: bool
    cadss_items: tuple[int, ...]
    cadss_items_source: str
    cadss_answer_min: int | None
    cadss_answer_max: int | None
    cadss_answer_source: str

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> DissociationOptions:
        scale, cadss = mapping["scale"], mapping["cadss6"]
        offered = bool(cadss.get("offered", False))
        low, high = cadss.get("answer_min"), cadss.get("answer_max")
        if offered and (low is None or high is None or low >= high):
            raise ValueError("dissociation.yaml: an offered CADSS-6 needs answer_min < answer_max")
        return cls(
            scale_min=int(scale["min"]),
            scale_max=int(scale["max"]),
            scale_source=str(scale["source"]),
            cadss_offered=offered,
            cadss_items=tuple(int(n) for n in cadss["items"]),
            cadss_items_source=str(cadss["items_source"]),
            cadss_answer_min=None if low is None else int(low),
            cadss_answer_max=None if high is None else int(high),
            cadss_answer_source=str(cadss["answer_source"]),
        )


def load_dissociation_options(
    path: Path = vitals.DATA_DIR / "dissociation.yaml",
) -> DissociationOptions:
    with path.open(encoding="utf-8") as handle:
        return DissociationOptions.from_mapping(yaml.safe_load(handle))


DISSOCIATION = load_dissociation_options()


def dissociation_options() -> DissociationOptions:
    """The clinic's dissociation options in force (a clinic editor arrives later)."""
    return DISSOCIATION


# --------------------------------------------------------------------------------------
# Dissociation, side effects, adverse events
# --------------------------------------------------------------------------------------


def dissociation_record(
    *,
    request,
    session: TreatmentSession,
    score: int,
    cadss_items: Mapping[int, int] | None = None,
    at: dt.datetime | None = None,
    options: DissociationOptions | None = None,
) -> DissociationRating:
    """A dissociation rating on the clinic's 0–10 scale, with CADSS-6 items if offered."""
    options = options or dissociation_options()
    items = {int(k): v for k, v in (cadss_items or {}).items() if v is not None}

    def write(locked: TreatmentSession) -> DissociationRating:
        require_status(locked, AFTER_START, "rate dissociation")
        require(
            score is not None and options.scale_min <= score <= options.scale_max,
            "score",
            f"Rate dissociation from {options.scale_min} to {options.scale_max}.",
        )
        _check_cadss(items, options)
        moment = entry_time(
            locked, at, not_before=locked.dose_started_at, not_before_what="dosing started"
        )
        rating = DissociationRating.objects.create(
            session=locked,
            score=score,
            cadss_items={str(k): v for k, v in sorted(items.items())},
            at=moment,
            recorded_by=request.user,
        )
        audit(
            request,
            "session.dissociation",
            locked,
            rating,
            score=score,
            cadss_items=rating.cadss_items,
        )
        return rating

    return write_locked(request, session, "session.dissociation", write)


def _check_cadss(items: Mapping[int, int], options: DissociationOptions) -> None:
    """CADSS-6 answers only where the clinic offers them, each item of the six, in range."""
    if not items:
        return
    require(options.cadss_offered, "cadss_items", "This clinic does not use the CADSS-6 items.")
    for number, answer in items.items():
        require(
            number in options.cadss_items,
            f"cadss_{number}",
            f"CADSS item {number} is not in the CADSS-6.",
        )
        require(
            options.cadss_answer_min <= answer <= options.cadss_answer_max,
            f"cadss_{number}",
            f"Answer CADSS item {number} from {options.cadss_answer_min} "
            f"to {options.cadss_answer_max}.",
        )


def side_effect_record(
    *,
    request,
    session: TreatmentSession,
    code: str,
    severity: str,
    action: str = "",
    at: dt.datetime | None = None,
) -> SideEffect:
    """A side effect from the seeds' vocabulary, with severity and what was done."""

    def write(locked: TreatmentSession) -> SideEffect:
        require_status(locked, AFTER_START, "chart a side effect")
        try:
            safety.SIDE_EFFECTS.get(code)
        except safety.PolicyError as error:
            raise ValidationError({"code": str(error)}) from None
        require(
            severity in safety.SIDE_EFFECTS.severities,
            "severity",
            f"Severity is one of {', '.join(safety.SIDE_EFFECTS.severities)}.",
        )
        moment = entry_time(
            locked, at, not_before=locked.dose_started_at, not_before_what="dosing started"
        )
        effect = SideEffect.objects.create(
            session=locked,
            code=code,
            severity=severity,
            action=(action or "").strip()[:300],
            at=moment,
            recorded_by=request.user,
        )
        audit(
            request,
            "session.side_effect",
            locked,
            effect,
            code=code,
            severity=severity,
            action=effect.action,
        )
        return effect

    return write_locked(request, session, "session.side_effect", write)


def adverse_event_record(
    *,
    request,
    session: TreatmentSession,
    description: str,
    serious: bool,
    at: dt.datetime | None = None,
) -> AdverseEvent:
    """An adverse event: serious ones are flagged for reporting, esketamine ones for REMS."""
    description = (description or "").strip()

    def write(locked: TreatmentSession) -> AdverseEvent:
        require_status(locked, (*AFTER_START, SessionStatus.DISCHARGED), "chart an adverse event")
        require(bool(description), "description", "Describe the adverse event.")
        moment = entry_time(
            locked, at, not_before=locked.dose_started_at, not_before_what="dosing started"
        )
        event = AdverseEvent.objects.create(
            session=locked,
            description=description,
            serious=bool(serious),
            report_required=bool(serious),
            rems_reportable=locked.route == "esketamine",
            at=moment,
            recorded_by=request.user,
        )
        audit(
            request,
            "session.adverse_event",
            locked,
            event,
            serious=event.serious,
            report_required=event.report_required,
            rems_reportable=event.rems_reportable,
        )
        return event

    return write_locked(request, session, "session.adverse_event", write)
