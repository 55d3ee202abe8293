"""The live treatment-floor board: every running session by chair and every patient checked in
and waiting, refreshed every 5 s.

The rows are built by ``board_rows.py`` (pure) from the floor read by ``board_floor.py``, in
a fixed number of queries however many chairs are running and however long their sessions
have run. This module is the page and its poll; the names the rows are made of are
importable from here.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from ketaclinic.accounts.access import require_permission
from ketaclinic.audit import trail

from .board_floor import (
    VERSION_SECONDS,
    can_satisfy_a_check,
    floor_facts,
    floor_version,
    newest_values,
    waiting_facts,
)
from .board_rows import (
    STALE_AFTER,
    BoardRow,
    CheckDue,
    Infusion,
    LastVitals,
    OpenAlert,
    SessionFacts,
    VitalValue,
    WaitingFacts,
    WaitingRow,
    board_rows,
    infusion_of,
    last_vitals_of,
    waiting_rows,
)

__all__ = [
    "STALE_AFTER",
    "VERSION_SECONDS",
    "BoardRow",
    "CheckDue",
    "Infusion",
    "LastVitals",
    "OpenAlert",
    "SessionFacts",
    "VitalValue",
    "WaitingFacts",
    "WaitingRow",
    "board",
    "board_rows",
    "can_satisfy_a_check",
    "floor_facts",
    "floor_version",
    "infusion_of",
    "last_vitals_of",
    "newest_values",
    "waiting_facts",
    "waiting_rows",
]

POLL_SECONDS = 5


@login_required
def board(request):
    """The board page; an HTMX poll gets the rows partial only.

    A poll names the version it shows (``?v=``): when the floor's version is the same, the
    answer is 204 with no body (htmx leaves the board as it is) and no audit row, since no
    patient data was sent; any other answer is audited as before.
    """
    require_permission(request, "board.view")
    now = timezone.now()
    version = floor_version(now)
    if request.htmx and request.GET.get("v") == version:
        response = HttpResponse(status=204)
        response["X-Board-Version"] = version
        return response
    facts, waiting = floor_facts(), waiting_facts(timezone.localdate(now))
    rows = board_rows(facts, now)
    trail.record(
        action="board.view",
        request=request,
        detail={
            "sessions": [f.session_id for f in facts],
            "waiting": [w.appointment_id for w in waiting],
            "partial": bool(request.htmx),
        },
    )
    context = {
        "rows": rows,
        "waiting": waiting_rows(waiting, now),
        "now": now,
        "critical": sum(row.level == "critical" for row in rows),
        "poll_seconds": POLL_SECONDS,
        "version": version,
    }
    template = "charting/board_rows.html" if request.htmx else "charting/board.html"
    response = render(request, template, context)
    response["X-Board-Version"] = version
    return response
