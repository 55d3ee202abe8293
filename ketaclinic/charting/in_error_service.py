"""Entries in error: a wrong chart entry is struck out, never deleted or edited.

The entry stays on the chart marked ``entered-in-error`` (the FHIR status word) with the
reason, and stops counting: totals, alerts and the checklist read final rows only. Each kind
of entry may be struck out only while its phase of the session allows it; an infusion event
only when the record still makes sense without it.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from . import administration
from .administration_service import pure_infusion
from .models import (
    ACTIVE,
    AdverseEvent,
    BolusDose,
    ChecklistEntry,
    DissociationRating,
    InfusionEvent,
    IntegrationNote,
    MedicationGiven,
    NasalDevice,
    RecordStatus,
    SessionStatus,
    SideEffect,
    TreatmentSession,
    VitalReading,
)
from .session_service import AFTER_START, audit, dose_minute, final, now, require, write_locked

ENTRY_KINDS: dict[str, tuple[type, str, tuple[str, ...]]] = {
    # kind: (model, label, session statuses in which it may be struck out)
    "checklist": (ChecklistEntry, "checklist answer", (SessionStatus.CHECKLIST,)),
    "infusion": (InfusionEvent, "infusion event", (SessionStatus.DOSING,)),
    "bolus": (BolusDose, "injection", AFTER_START),
    "device": (NasalDevice, "nasal device", AFTER_START),
    "medication": (MedicationGiven, "medication", (*ACTIVE, SessionStatus.DISCHARGED)),
    "vitals": (VitalReading, "vital-sign reading", (*ACTIVE, SessionStatus.DISCHARGED)),
    "dissociation": (
        DissociationRating,
        "dissociation rating",
        (*AFTER_START, SessionStatus.DISCHARGED),
    ),
    "side_effect": (SideEffect, "side effect", (*AFTER_START, SessionStatus.DISCHARGED)),
    "adverse_event": (AdverseEvent, "adverse event", (*AFTER_START, SessionStatus.DISCHARGED)),
    "integration_note": (IntegrationNote, "integration note", (SessionStatus.DISCHARGED,)),
}


def entry_mark_in_error(
    *, request, session: TreatmentSession, kind: str, entry_id: int, reason: str
):
    """Strike out a wrong entry: it stays on the chart, marked entered-in-error, with why."""
    reason = (reason or "").strip()

    def write(locked: TreatmentSession):
        require(kind in ENTRY_KINDS, "kind", "Unknown kind of entry.")
        model, label, statuses = ENTRY_KINDS[kind]
        entry = model.objects.filter(pk=entry_id, session=locked).first()
        require(entry is not None, "entry", f"No such {label} in this session.")
        require(
            entry.status == RecordStatus.FINAL,
            "entry",
            f"This {label} is already marked entered in error.",
        )
        require(bool(reason), "reason", "Say why the entry is wrong.")
        if locked.status not in statuses:
            raise ValidationError(
                {
                    "entry": f"A {label} cannot be struck out once the session is "
                    f"{locked.get_status_display().lower()}."
                }
            )
        if kind == "infusion":
            _require_infusion_without(locked, entry)
        entry.status = RecordStatus.ENTERED_IN_ERROR
        entry.error_reason = reason[:300]
        entry.save(update_fields=["status", "error_reason"])
        audit(
            request, "session.entry_in_error", locked, entry, kind=kind, reason=entry.error_reason
        )
        return entry

    return write_locked(request, session, "session.entry_in_error", write)


def _require_infusion_without(session: TreatmentSession, entry: InfusionEvent) -> None:
    """The infusion record still makes sense without ``entry``, and still has its start."""
    rest = [e for e in session.infusion_events.all() if e.pk != entry.pk]
    try:
        administration.infusion_segments(
            pure_infusion(session, rest), until_minute=dose_minute(session, now())
        )
    except administration.AdministrationError:
        raise ValidationError(
            {
                "entry": "The infusion record would not make sense without this event: "
                "strike out the later events first."
            }
        ) from None
    require(
        bool(final(rest)),
        "entry",
        "The infusion start cannot be struck out once dosing runs.",
    )
