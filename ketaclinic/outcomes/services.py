"""Writes for measurement-based care. Each validates, saves and audits in one transaction.

* ``response_save``: answers from the portal, a paper form, a phone call or a clinician's
  interview. Complete answers are scored (``scoring.score``) and the score is kept with them;
  incomplete ones are stored as in progress, never scored. A completed questionnaire fulfils
  the open measures of that instrument whose window has opened, and every flag it raises
  (suicidal ideation) opens an urgent :class:`SafetyTask` for the patient's prescriber in the
  same transaction: it cannot be saved without its task.
* ``safety_task_resolve``: a clinician documents the follow-up; only then does it close.
* ``tasks_sync``: the measures due over a signed plan's course (``schedule.py``).
* ``link_create`` / ``link_redeem``: single-use, expiring questionnaire links.
* ``definition_load``: a clinic loads (or updates) an instrument definition, validated by
  ``parse_instrument`` and audited with the old and new version.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Sequence
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome
from ketaclinic.patients.models import CareRole, Patient

from . import schedule, scoring
from .definitions import DefinitionError, UnknownInstrumentError, parse_instrument
from .models import (
    Channel,
    DefinitionOrigin,
    DefinitionStatus,
    FollowUpAction,
    InstrumentDefinition,
    MeasurementTask,
    QuestionnaireLink,
    Response,
    ResponseStatus,
    SafetyTask,
    SafetyTaskStatus,
    TaskStatus,
    token_digest,
)
from .seeding import seed_instruments

# A reminder's questionnaire link works once, for this long [U: clinic policy].
LINK_VALID_HOURS = 72
# After a link is used, the browser may answer that patient's questionnaires this long [U].
LINK_SESSION_MINUTES = 60


def _reject(request, action: str, error: ValidationError, patient_id: int | None = None):
    trail.record(
        action=action,
        request=request,
        patient_id=patient_id,
        outcome=Outcome.INVALID,
        detail={"errors": error.message_dict if hasattr(error, "error_dict") else error.messages},
    )
    raise error


# --- definitions -----------------------------------------------------------------------


def definition(code: str, *, usable_only: bool = True) -> InstrumentDefinition:
    """The clinic's definition for ``code``.

    Shipped definitions missing from the database (a flushed test database) are seeded on
    the way. Raises UnknownInstrumentError when the clinic has no such (active) instrument.
    """
    found = InstrumentDefinition.objects.filter(code=code).first()
    if found is None and seed_instruments():
        found = InstrumentDefinition.objects.filter(code=code).first()
    if found is None or (usable_only and found.status != DefinitionStatus.ACTIVE):
        raise UnknownInstrumentError(code)
    return found


def usable_definitions() -> dict[str, InstrumentDefinition]:
    definitions = {d.code: d for d in InstrumentDefinition.objects.usable()}
    if not definitions and seed_instruments():
        definitions = {d.code: d for d in InstrumentDefinition.objects.usable()}
    return definitions


def parse_definition_text(text: str) -> dict[str, Any]:
    """YAML or JSON text to a mapping; ValidationError with the parser's message."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ValidationError({"definition": f"Not valid YAML: {error}"}) from None
    if not isinstance(data, dict):
        raise ValidationError({"definition": "A definition is a mapping (code, name, items…)."})
    return data


def definition_load(*, request, data: dict[str, Any]) -> InstrumentDefinition:
    """Load a clinic definition (new code, or a higher version of an existing one)."""
    try:
        try:
            instrument = parse_instrument(data, origin="uploaded definition")
        except DefinitionError as error:
            raise ValidationError({"definition": str(error)}) from None
        # Stored as it will read back from the JSON column, dates and all.
        raw = json.loads(json.dumps(data, default=str))
        with transaction.atomic():
            existing = InstrumentDefinition.objects.select_for_update().filter(code=instrument.code)
            current = existing.first()
            if current is not None and instrument.version <= current.version:
                raise ValidationError(
                    {
                        "definition": f"{instrument.code} is already at version "
                        f"{current.version}; a change needs a higher version number."
                    }
                )
            old = None
            if current is None:
                current = InstrumentDefinition(code=instrument.code, origin=DefinitionOrigin.CLINIC)
            else:
                old = {"version": current.version, "status": current.status, "name": current.name}
            current.name = instrument.name
            current.version = instrument.version
            current.status = instrument.status
            current.rater = instrument.rater
            current.definition = raw
            current.loaded_at = timezone.now()
            current.loaded_by = request.user
            if current.origin == DefinitionOrigin.SHIPPED:
                current.origin = DefinitionOrigin.CLINIC
            current.save()
            trail.record(
                action="instrument.load",
                request=request,
                target=current,
                detail={
                    "code": current.code,
                    "old": old,
                    "new": {
                        "version": current.version,
                        "status": current.status,
                        "name": current.name,
                    },
                    "licence": instrument.licence,
                },
            )
        return current
    except ValidationError as error:
        _reject(request, "instrument.load", error)


def definition_set_status(*, request, definition: InstrumentDefinition, status: str) -> None:
    if status not in DefinitionStatus.values:
        _reject(request, "instrument.status", ValidationError({"status": "Unknown status."}))
    with transaction.atomic():
        old = definition.status
        definition.status = status
        definition.save(update_fields=["status"])
        trail.record(
            action="instrument.status",
            request=request,
            target=definition,
            detail={"code": definition.code, "old": old, "new": status},
        )


# --- responses -------------------------------------------------------------------------


def clean_answers(definition: InstrumentDefinition, answers: Sequence[Any]) -> list[int | None]:
    """Answers as whole numbers or None; ValidationError naming the item otherwise."""
    instrument = definition.instrument
    if isinstance(answers, str | bytes) or not isinstance(answers, Sequence):
        raise ValidationError({"answers": "Answers are a list, one per item."})
    cleaned: list[int | None] = []
    for number, value in enumerate(answers, start=1):
        if value is None or value == "":
            cleaned.append(None)
            continue
        if isinstance(value, str):
            try:
                value = int(value)
            except ValueError:
                raise ValidationError(
                    {f"item_{number}": f"item {number}: answer must be a whole number."}
                ) from None
        cleaned.append(value)
    # Trailing blanks are unanswered items; keep one slot per item so the form refills.
    cleaned += [None] * (len(instrument.items) - len(cleaned))
    return cleaned


def care_team_prescriber(patient: Patient):
    """The patient's prescriber from the care team (latest recorded), else None."""
    member = (
        patient.care_team.valid()
        .filter(role=CareRole.PRESCRIBER, user__isnull=False, user__is_active=True)
        .select_related("user")
        .order_by("-recorded_at", "-id")
        .first()
    )
    return member.user if member else None


def current_plan(patient: Patient):
    from ketaclinic.plans.models import PlanStatus

    return (
        patient.plans.filter(status__in=[PlanStatus.ACTIVE]).order_by("-signed_at", "-id").first()
    )


def _active_session(patient: Patient):
    try:
        from ketaclinic.charting.models import TreatmentSession
    except ImportError:  # pragma: no cover - charting is installed with ketaclinic
        return None
    return TreatmentSession.objects.active().filter(patient=patient).order_by("-opened_at").first()


def response_save(
    *,
    request,
    patient: Patient,
    definition: InstrumentDefinition,
    answers: Sequence[Any],
    channel: str,
    response: Response | None = None,
    submitted_at: dt.datetime | None = None,
) -> Response:
    """Store answers (new, or continuing an in-progress response); score them if complete.

    ``request.user`` entered them: the patient on the portal (or None through a link), or a
    staff member for paper, phone and clinician-rated entries.
    """
    action = "outcome.response"
    try:
        if channel not in Channel.values:
            raise ValidationError({"channel": f"Unknown channel {channel!r}."})
        user = getattr(request, "user", None)
        staff_entry = channel != Channel.PORTAL
        entered_by = user if user is not None and user.is_authenticated else None
        if staff_entry and entered_by is None:
            raise ValidationError({"channel": "Paper, phone and interview entries need a user."})
        if definition.rater == "clinician" and channel != Channel.INTERVIEW:
            raise ValidationError(
                {"channel": f"{definition.name} is clinician-rated: enter it as an interview."}
            )
        if definition.rater == "patient" and channel == Channel.INTERVIEW:
            raise ValidationError(
                {"channel": f"{definition.name} is answered by the patient, not rated."}
            )
        cleaned = clean_answers(definition, answers)
        try:
            result = scoring.score(definition.instrument, cleaned)
        except scoring.AnswerError as error:
            raise ValidationError({f"item_{error.item}": str(error)}) from None
        except scoring.ScoringError as error:
            raise ValidationError({"answers": str(error)}) from None
        now = timezone.now()
        if submitted_at is not None and submitted_at > now + dt.timedelta(minutes=5):
            raise ValidationError({"submitted_at": "Answers cannot be given in the future."})
        if response is not None and (
            response.status != ResponseStatus.IN_PROGRESS
            or response.patient_id != patient.pk
            or response.instrument_id != definition.code
        ):
            raise ValidationError(
                {"answers": "Only an in-progress questionnaire can be continued."}
            )
    except ValidationError as error:
        _reject(request, action, error, patient.pk)

    with transaction.atomic():
        if response is None:
            response = Response(
                patient=patient,
                instrument=definition,
                instrument_version=definition.version,
                channel=channel,
                entered_by=entered_by,
                plan=current_plan(patient),
                session=_active_session(patient),
                started_at=now,
            )
        response.answers = cleaned
        response.updated_at = now
        complete = isinstance(result, scoring.ScoreResult)
        if complete:
            response.status = ResponseStatus.COMPLETED
            response.total = result.total
            response.band = result.band or ""
            response.flags = list(result.flags)
            response.subscores = dict(result.subscores)
            response.provisional_ptsd = result.provisional_ptsd
            response.submitted_at = submitted_at or now
        response.save()
        detail = {
            "instrument": definition.code,
            "version": definition.version,
            "channel": channel,
            "status": response.status,
        }
        if complete:
            detail.update(total=result.total, band=result.band, flags=list(result.flags))
            fulfilled = _fulfil_tasks(response)
            detail["tasks_fulfilled"] = fulfilled
            tasks = _raise_safety_tasks(request, response, definition)
            detail["safety_tasks"] = [task.pk for task in tasks]
        else:
            detail["missing_items"] = list(result.missing_items)
        trail.record(
            action="outcome.response_complete" if complete else "outcome.response_progress",
            request=request,
            patient=patient,
            target=response,
            detail=detail,
            actor_username="" if entered_by else f"patient link ({patient.mrn})",
        )
    return response


def _fulfil_tasks(response: Response) -> list[int]:
    """Close the open measures of this instrument whose window had opened (overdue too)."""
    day = timezone.localdate(response.submitted_at)
    tasks = list(
        MeasurementTask.objects.open()
        .filter(patient_id=response.patient_id, instrument_id=response.instrument_id)
        .filter(opens_on__lte=day)
        .values_list("pk", flat=True)
    )
    if tasks:
        MeasurementTask.objects.filter(pk__in=tasks).update(
            status=TaskStatus.DONE, response=response, closed_at=timezone.now()
        )
    return tasks


def _raise_safety_tasks(request, response: Response, definition: InstrumentDefinition):
    """One urgent task per flag, for the prescriber; never silent, never only an email."""
    if not response.flags:
        return []
    instrument = definition.instrument
    assignee = care_team_prescriber(response.patient)
    if assignee is None and response.plan_id:
        assignee = response.plan.signed_by
    tasks = []
    for code in response.flags:
        rules = [f for f in instrument.flags if f.code == code]
        finding = "; ".join(
            f"{instrument.name} item {rule.item} answered "
            f"{_option_text(instrument, rule.item, response.answers[rule.item - 1])!r}"
            for rule in rules
        )
        task = SafetyTask.objects.create(
            patient=response.patient,
            response=response,
            flag=code,
            finding=finding[:300] or code,
            assigned_to=assignee,
        )
        trail.record(
            action="safety_task.create",
            request=request,
            patient=response.patient,
            target=task,
            detail={
                "flag": code,
                "finding": task.finding,
                "assigned_to": assignee.username if assignee else None,
            },
            actor_username=""
            if response.entered_by_id
            else f"patient link ({response.patient.mrn})",
        )
        tasks.append(task)
    return tasks


def _option_text(instrument, item: int, value: int | None) -> str:
    try:
        return instrument.item(item).option(value).text
    except (KeyError, IndexError):
        return str(value)


def response_mark_in_error(*, request, response: Response, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        _reject(
            request,
            "outcome.response_error",
            ValidationError({"reason": "Give a reason."}),
            response.patient_id,
        )
    with transaction.atomic():
        old = response.status
        response.status = ResponseStatus.ENTERED_IN_ERROR
        response.error_reason = reason[:300]
        response.updated_at = timezone.now()
        response.save(update_fields=["status", "error_reason", "updated_at"])
        # The measures it fulfilled are due again.
        MeasurementTask.objects.filter(response=response).update(
            status=TaskStatus.OPEN, response=None, closed_at=None
        )
        trail.record(
            action="outcome.response_error",
            request=request,
            patient_id=response.patient_id,
            target=response,
            detail={"old": old, "reason": response.error_reason},
        )


# --- safety tasks ----------------------------------------------------------------------


def safety_task_resolve(*, request, task: SafetyTask, action: str, note: str) -> SafetyTask:
    """Document the follow-up of a safety task; it closes only with an action and a note."""
    errors = {}
    if action not in FollowUpAction.values:
        errors["follow_up_action"] = "Choose what was done."
    if not (note or "").strip():
        errors["follow_up_note"] = "Describe the follow-up (who was reached, risk, plan)."
    if errors:
        _reject(request, "safety_task.resolve", ValidationError(errors), task.patient_id)
    with transaction.atomic():
        locked = SafetyTask.objects.select_for_update().get(pk=task.pk)
        if locked.status != SafetyTaskStatus.OPEN:
            raise ValidationError({"follow_up_note": "This follow-up is already documented."})
        locked.status = SafetyTaskStatus.RESOLVED
        locked.follow_up_action = action
        locked.follow_up_note = note.strip()
        locked.resolved_by = request.user
        locked.resolved_at = timezone.now()
        locked.save()
        trail.record(
            action="safety_task.resolve",
            request=request,
            patient_id=locked.patient_id,
            target=locked,
            detail={"flag": locked.flag, "action": action, "note": locked.follow_up_note},
        )
    return locked


# --- measurement schedule --------------------------------------------------------------


def plan_course(plan) -> list[schedule.CourseSession]:
    return [
        schedule.CourseSession(number=s.number, on=s.date, phase=s.phase)
        for s in plan.planned_sessions.all()
    ]


def tasks_sync(plan, policy: schedule.MeasurementPolicy | None = None) -> dict[str, int]:
    """Make the plan's open measures match its course: add missing ones, cancel stale ones.

    Done and cancelled measures are kept as they are. Instruments the clinic does not have
    (or has retired) are skipped.
    """
    policy = policy or schedule.shipped_policy()
    usable = usable_definitions()
    instruments = [c for c in policy.instruments_for(plan.indication) if c in usable]
    wanted = {
        (m.instrument, m.reason, m.due_on): m
        for m in schedule.measures_due(plan_course(plan), instruments, policy)
    }
    with transaction.atomic():
        existing = {(t.instrument_id, t.reason, t.due_on): t for t in plan.measurement_tasks.all()}
        stale = [
            t.pk for key, t in existing.items() if key not in wanted and t.status == TaskStatus.OPEN
        ]
        MeasurementTask.objects.filter(pk__in=stale).update(
            status=TaskStatus.CANCELLED, closed_at=timezone.now()
        )
        new = [
            MeasurementTask(
                patient_id=plan.patient_id,
                plan=plan,
                instrument_id=m.instrument,
                reason=m.reason,
                session_number=m.session_number,
                opens_on=m.opens_on,
                due_on=m.due_on,
            )
            for key, m in wanted.items()
            if key not in existing
        ]
        MeasurementTask.objects.bulk_create(new)
        # Answers already given inside a new measure's window fulfil it.
        _fulfil_from_history(plan.patient_id)
    return {"created": len(new), "cancelled": len(stale)}


def _fulfil_from_history(patient_id: int) -> None:
    """Open measures already answered inside their window are done (after a re-plan)."""
    zone = timezone.get_current_timezone()
    for task in MeasurementTask.objects.open().filter(patient_id=patient_id):
        start = dt.datetime.combine(task.opens_on, dt.time.min, tzinfo=zone)
        end = dt.datetime.combine(task.due_on + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        answered = (
            Response.objects.completed()
            .filter(patient_id=patient_id, instrument_id=task.instrument_id)
            .filter(submitted_at__gte=start, submitted_at__lt=end)
            .order_by("submitted_at")
            .first()
        )
        if answered is not None:
            MeasurementTask.objects.filter(pk=task.pk).update(
                status=TaskStatus.DONE, response=answered, closed_at=timezone.now()
            )


def tasks_sync_missing() -> int:
    """Schedule measures for active plans that have none yet; how many plans were synced."""
    from ketaclinic.plans.models import PlanStatus, TreatmentPlan

    plans = list(
        TreatmentPlan.objects.filter(status=PlanStatus.ACTIVE, measurement_tasks__isnull=True)
        .prefetch_related("planned_sessions")
        .distinct()
    )
    for plan in plans:
        if plan.planned_sessions.all():
            tasks_sync(plan)
    return len(plans)


def due_tasks(patient_id: int | None = None, today: dt.date | None = None):
    """Open measures whose window has opened (due or overdue), soonest due first."""
    today = today or timezone.localdate()
    tasks = MeasurementTask.objects.due_by(today).select_related("instrument")
    if patient_id is not None:
        tasks = tasks.filter(patient_id=patient_id)
    return tasks.order_by("due_on", "id")


# --- questionnaire links ---------------------------------------------------------------


def link_create(*, request, patient: Patient, hours: int = LINK_VALID_HOURS) -> str:
    """A new single-use link token for ``patient`` (only its digest is stored)."""
    token = secrets.token_urlsafe(32)
    user = getattr(request, "user", None)
    with transaction.atomic():
        link = QuestionnaireLink.objects.create(
            patient=patient,
            token_hash=token_digest(token),
            created_by=user if user is not None and user.is_authenticated else None,
            expires_at=timezone.now() + dt.timedelta(hours=hours),
        )
        trail.record(
            action="outcome.link_create",
            request=request,
            patient=patient,
            target=link,
            detail={"expires_at": link.expires_at.isoformat()},
            actor_username="" if link.created_by_id else "reminders",
        )
    return token


def link_url(token: str) -> str:
    """The absolute URL of a questionnaire link, for a reminder's email or SMS."""
    from django.conf import settings
    from django.urls import reverse

    base = getattr(settings, "SITE_URL", "http://127.0.0.1:8000")
    return base.rstrip("/") + reverse("questionnaires:link", kwargs={"token": token})


def reminder_link(patient: Patient) -> str:
    """A fresh single-use link for a reminder to send (the reminders call this)."""
    return link_url(link_create(request=None, patient=patient))


def link_redeem(*, request, token: str) -> Patient | None:
    """The link's patient if the token is valid, unused and unexpired; marks it used.

    The update is conditional, so two simultaneous uses of one link cannot both succeed.
    """
    now = timezone.now()
    digest = token_digest(token)
    with transaction.atomic():
        used = QuestionnaireLink.objects.filter(
            token_hash=digest, used_at__isnull=True, expires_at__gt=now
        ).update(used_at=now)
        link = QuestionnaireLink.objects.select_related("patient").filter(token_hash=digest).first()
        if not used:
            if link is None:
                reason = "unknown"
            elif link.used_at is not None:
                reason = "already used"
            else:
                reason = "expired"
            trail.record(
                action="outcome.link_refused",
                request=request,
                patient_id=link.patient_id if link else None,
                outcome=Outcome.REFUSED,
                detail={"reason": reason},
                actor_username="anonymous link",
            )
            return None
        trail.record(
            action="outcome.link_used",
            request=request,
            patient=link.patient,
            target=link,
            actor_username=f"patient link ({link.patient.mrn})",
        )
    return link.patient


def open_safety_tasks(user=None):
    """Open safety tasks, the user's own first, then unassigned, then the rest."""
    tasks = SafetyTask.objects.open().select_related("patient", "assigned_to", "response")
    if user is None:
        return tasks.order_by("created_at", "id")
    mine_first = Case(
        When(assigned_to=user, then=Value(0)),
        When(assigned_to__isnull=True, then=Value(1)),
        default=Value(2),
    )
    return tasks.order_by(mine_first, "created_at", "id")
