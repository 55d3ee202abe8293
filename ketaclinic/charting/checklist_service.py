"""The pre-session checklist: where each item stands, a clinician's answer, a prescriber's override.

The gate itself is pure (``checklist.py``); the record's facts are read by
``checklist_facts.py``. A clinician answers an item passed (confirmed) or failed (not met,
with what); the two-clinician dose check is signed by the second clinician with their own
password; a prescriber may override an overridable item, saying why. Every answer is a row,
never edited: a wrong one is marked entered in error.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError

from ketaclinic.accounts import verification
from ketaclinic.accounts.permissions import can
from ketaclinic.audit.trail import reject

from . import checklist as gate_rules
from .checklist_facts import checklist_conditions, checklist_facts
from .models import ChecklistEntry, ChecklistStatus, SessionStatus, TreatmentSession, VitalReading
from .session_service import (
    audit,
    entry_time,
    final,
    name_of,
    require,
    require_status,
    write_locked,
)

#: How a note copied from the record at the start of dosing begins.
SNAPSHOT = "from the record: "


def checklist_entries(rows: Iterable[ChecklistEntry]) -> list[gate_rules.Entry]:
    """The session's checklist answers as plain data, oldest first, without errors."""
    return [
        gate_rules.Entry(
            code=row.code,
            outcome=row.outcome,
            by_id=row.recorded_by_id,
            by=name_of(row.recorded_by),
            at=row.at,
            second_checker_id=row.second_checker_id,
            second_checker=name_of(row.second_checker),
            note=row.note,
            override_reason=row.override_reason,
        )
        for row in sorted(final(rows), key=lambda r: (r.at, r.pk))
    ]


def checklist_rows(session: TreatmentSession) -> list[ChecklistEntry]:
    return list(
        session.checklist.select_related("recorded_by", "second_checker").order_by("at", "id")
    )


def checklist_states(
    session: TreatmentSession,
    *,
    rows: Sequence[ChecklistEntry] | None = None,
    readings: Sequence[VitalReading] | None = None,
) -> list[gate_rules.ItemState]:
    """Where each item stands: live while the checklist is open; once dosing has started, as
    it stood then (the record's answers were copied into the checklist at the start)."""
    entries = checklist_entries(rows if rows is not None else checklist_rows(session))
    if session.dose_started_at is None:
        return gate_rules.states(checklist_facts(session, readings=readings), entries)
    kept = {
        e.code: gate_rules.Derived(True, e.note.removeprefix(SNAPSHOT), e.by, e.at)
        for e in entries
        if e.outcome == "passed" and e.note.startswith(SNAPSHOT)
    }
    facts = dataclasses.replace(checklist_conditions(session), derived=kept)
    return gate_rules.states(facts, entries)


def _item(code: str) -> gate_rules.ChecklistItem:
    try:
        return gate_rules.DEFAULT_CHECKLIST.item(code)
    except gate_rules.ChecklistError as error:
        raise ValidationError({"code": str(error)}) from None


def _asked_item(session: TreatmentSession, code: str) -> gate_rules.ChecklistItem:
    """The item, refused when unknown or not asked for this session."""
    item = _item(code)
    require(
        gate_rules.applies(item, checklist_conditions(session)),
        "code",
        f"{item.label} is not asked for this session.",
    )
    return item


# ---------------------------------------------------------------- answering an item


def checklist_record(
    *,
    request,
    session: TreatmentSession,
    code: str,
    outcome: str,
    note: str = "",
    second_checker=None,
    second_checker_password: str = "",
    at: dt.datetime | None = None,
) -> ChecklistEntry:
    """A clinician answers a checklist item: passed (confirmed) or failed (not met).

    An item with a two-clinician check (the dose check) passes only when the second
    clinician signs it with their own password (``accounts.verification``: checked before
    the write so a wrong password's refusal is kept; throttled on its own, never toward the
    second clinician's sign-in lockout).
    """
    note = (note or "").strip()
    _verify_second_checker(request, session, code, outcome, second_checker, second_checker_password)

    def write(locked: TreatmentSession) -> ChecklistEntry:
        require_status(locked, [SessionStatus.CHECKLIST], "answer the checklist")
        item = _asked_item(locked, code)
        _check_answer(item, outcome, note)
        checker = _second_checker(request, item, outcome, second_checker)
        entry = ChecklistEntry.objects.create(
            session=locked,
            code=item.code,
            outcome=outcome,
            note=note[:300],
            second_checker=checker,
            recorded_by=request.user,
            at=entry_time(locked, at),
        )
        audit(
            request,
            "session.checklist",
            locked,
            entry,
            code=item.code,
            outcome=outcome,
            note=entry.note,
            second_checker=checker.username if checker else "",
            second_checker_signed="password" if checker else "",
        )
        return entry

    return write_locked(request, session, "session.checklist", write)


def _check_answer(item: gate_rules.ChecklistItem, outcome: str, note: str) -> None:
    """Passed only for what a clinician can attest; not met only with what is not met."""
    require(outcome in ("passed", "failed"), "outcome", "Record the item as passed or not met.")
    if outcome == "passed":
        require(
            item.attestable,
            "outcome",
            f"{item.label} is read from the record; correct the record, or a prescriber "
            "overrides the item with a reason.",
        )
    else:
        require(bool(note), "note", "Say what is not met.")


def _second_checker(request, item: gate_rules.ChecklistItem, outcome: str, second_checker):
    """The second clinician of a confirmed two-clinician item: named, someone else, a clinician."""
    if not (item.second_checker and outcome == "passed"):
        return None
    require(second_checker is not None, "second_checker", "Name the second clinician who checked.")
    require(
        second_checker.pk != request.user.pk,
        "second_checker",
        "The second check must be done by a different clinician.",
    )
    require(
        second_checker.is_active and can(second_checker, "session.chart"),
        "second_checker",
        "The second checker must be a nurse or prescriber.",
    )
    return second_checker


def _verify_second_checker(
    request, session: TreatmentSession, code: str, outcome: str, second_checker, password: str
) -> None:
    """The second clinician signs a confirmed two-clinician item with their own password.

    Only a check the write would otherwise accept is verified (another active nurse or
    prescriber confirming an item that needs two): everything else is refused by the write
    itself with its own message, and costs the named clinician no throttled attempt.
    """
    if outcome != "passed" or second_checker is None or second_checker.pk == request.user.pk:
        return
    try:
        item = gate_rules.DEFAULT_CHECKLIST.item(code)
    except gate_rules.ChecklistError:
        return
    if not item.second_checker:
        return
    if not (second_checker.is_active and can(second_checker, "session.chart")):
        return
    if not password:
        reject(
            request,
            "session.checklist",
            ValidationError(
                {
                    "second_checker_password": f"{second_checker.display_name} signs the "
                    "check by entering their own password."
                }
            ),
            session.patient_id,
        )
    verification.verify_password(
        request,
        verifier=second_checker,
        password=password,
        purpose="session.checklist",
        field="second_checker_password",
        patient_id=session.patient_id,
    )


# ---------------------------------------------------------------- overriding an item


def checklist_override(
    *, request, session: TreatmentSession, code: str, reason: str
) -> ChecklistEntry:
    """A prescriber overrides one checklist item, saying why. Audited with the reason."""
    reason = (reason or "").strip()

    def write(locked: TreatmentSession) -> ChecklistEntry:
        require(
            can(request.user, "session.override"),
            "code",
            "Only a prescriber can override a checklist item.",
        )
        require_status(locked, [SessionStatus.CHECKLIST], "override the checklist")
        item = _asked_item(locked, code)
        require(item.overridable, "code", f"{item.label} cannot be overridden.")
        require(bool(reason), "override_reason", "Give the reason for the override.")
        entry = ChecklistEntry.objects.create(
            session=locked,
            code=item.code,
            outcome=ChecklistStatus.OVERRIDDEN,
            override_reason=reason[:300],
            recorded_by=request.user,
        )
        audit(
            request,
            "session.checklist_override",
            locked,
            entry,
            code=item.code,
            reason=entry.override_reason,
        )
        return entry

    return write_locked(request, session, "session.checklist_override", write)
