"""Before dosing: the checklist's items confirmed or overridden, then dosing started (or the
session marked not started). Each write goes to the checklist and dose services and answers
as :mod:`.session_writes` describes."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_POST

from . import checklist, checklist_service, dose_service, forms, session_service
from .session_writes import answer


def item_label(code: str) -> str:
    return checklist.DEFAULT_CHECKLIST.item(code).label


@login_required
@require_POST
def checklist_record(request, session_id: int):
    return answer(
        request,
        session_id,
        permission="session.chart",
        form=lambda s: forms.ChecklistForm(request.POST),
        act=lambda s, f: checklist_service.checklist_record(
            request=request,
            session=s,
            code=f.cleaned_data["code"],
            outcome=f.cleaned_data["outcome"],
            note=f.cleaned_data["note"],
            second_checker=f.cleaned_data["second_checker"],
            second_checker_password=f.cleaned_data["second_checker_password"],
        ),
        panel="checklist",
        form_name="checklist_forms",
        keyed=request.POST.get("code", ""),
        action="session.checklist",
        done=lambda e: (
            f"Checklist: {item_label(e.code)} — "
            f"{'confirmed' if e.outcome == 'passed' else 'not met'}."
        ),
    )


@login_required
@require_POST
def checklist_override(request, session_id: int):
    return answer(
        request,
        session_id,
        permission="session.override",
        form=lambda s: forms.OverrideForm(request.POST),
        act=lambda s, f: checklist_service.checklist_override(
            request=request,
            session=s,
            code=f.cleaned_data["code"],
            reason=f.cleaned_data["override_reason"],
        ),
        panel="checklist",
        form_name="override_forms",
        keyed=request.POST.get("code", ""),
        action="session.checklist_override",
        done=lambda e: f"Overridden: {item_label(e.code)}.",
    )


@login_required
@require_POST
def start(request, session_id: int):
    return answer(
        request,
        session_id,
        permission="session.chart",
        form=lambda s: forms.StartForm(request.POST, route=s.route),
        act=lambda s, f: dose_service.session_start(
            request=request,
            session=s,
            at=f.moment(),
            rate_mg_per_min=f.cleaned_data.get("rate_mg_per_min"),
            prescriber_on_site=f.cleaned_data.get("prescriber_on_site"),
        ),
        panel="checklist",
        form_name="start_form",
        action="session.start",
        done=lambda s: f"Dosing started at {session_service.local_time(s.dose_started_at)}.",
    )


@login_required
@require_POST
def not_started(request, session_id: int):
    return answer(
        request,
        session_id,
        permission="session.chart",
        form=lambda s: forms.NotStartedForm(request.POST),
        act=lambda s, f: dose_service.session_not_started(
            request=request, session=s, reason=f.cleaned_data["reason"]
        ),
        panel="checklist",
        form_name="not_started_form",
        action="session.not_started",
        done=lambda s: "The session is marked not started.",
    )
