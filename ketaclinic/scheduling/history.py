"""An appointment's history as people read it: clinic-local times and status labels.

Events store UTC instants (``at``, and the places of a move as ISO strings in ``detail``) and
status codes; the API hands those out as they are. The appointment page shows every time in
the clinic's zone with its abbreviation (EST/EDT), the same way on every line, and statuses
by their labels ("Scheduled → Checked in").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import dateformat, timezone

from .models import AppointmentEvent, Status

# Every time on the history, in one format: "Mon 7 Dec 2026, 21:30 EST".
CLINIC_TIME = "D j M Y, H:i T"
KIND_LABELS = {"booked": "Booked", "moved": "Moved", "status": "Status changed"}


@dataclass(frozen=True)
class HistoryLine:
    when: str
    who: str
    what: str


def clinic_time(moment: dt.datetime | str | None) -> str:
    """A stored instant (datetime or ISO string) in the clinic's zone, labelled with it."""
    if not moment:
        return "an unrecorded time"
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return dateformat.format(timezone.localtime(moment), CLINIC_TIME)


def status_label(code: str) -> str:
    """A status code's label (an unknown code is shown in words, not as a code)."""
    if code in Status.values:
        return Status(code).label
    return code.replace("_", " ").capitalize()


def transition(event: AppointmentEvent) -> str:
    return f"{status_label(event.from_status)} → {status_label(event.to_status)}"


def describe(event: AppointmentEvent) -> str:
    """What happened, in words."""
    detail = event.detail or {}
    if event.kind == "status":
        return transition(event)
    if event.kind == "check_in_undone":
        return f"Check-in undone ({transition(event)}): {detail.get('reason', '')}"
    if event.kind == "booked" and detail.get("overrides"):
        reasons = "; ".join(o.get("reason", "") for o in detail["overrides"])
        return f"Booked by override: {reasons}"
    if event.kind == "moved":
        before = (detail.get("from") or {}).get("starts_at")
        after = (detail.get("to") or {}).get("starts_at")
        return f"Moved from {clinic_time(before)} to {clinic_time(after)}"
    return KIND_LABELS.get(event.kind, event.kind.replace("_", " ").capitalize())


def history_lines(events: Iterable[AppointmentEvent]) -> list[HistoryLine]:
    """One line per event, oldest first (the events' own order)."""
    return [
        HistoryLine(
            when=clinic_time(event.at),
            who=event.by.display_name if event.by else "system",
            what=describe(event),
        )
        for event in events
    ]
