"""Observations during and after dosing: dissociation ratings, side effects and adverse
events. Each write goes to the observation services and answers as :mod:`.session_writes`
describes."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_POST

from . import forms, observation_service, session_service
from .session_page import side_effect_label
from .session_writes import answer


@login_required
@require_POST
def dissociation(request, session_id: int):
    options = observation_service.dissociation_options()
    return answer(
        request,
        session_id,
        permission="session.chart",
        form=lambda s: forms.DissociationForm(request.POST, options=options),
        act=lambda s, f: observation_service.dissociation_record(
            request=request,
            session=s,
            score=f.cleaned_data["score"],
            cadss_items=f.cadss_items(),
            at=f.moment(),
        ),
        panel="observations",
        form_name="dissociation_form",
        action="session.dissociation",
        done=lambda r: (
            f"Dissociation {r.score}/{options.scale_max} at {session_service.local_time(r.at)}."
        ),
    )


@login_required
@require_POST
def side_effect(request, session_id: int):
    return answer(
        request,
        session_id,
        permission="session.chart",
        form=lambda s: forms.SideEffectForm(request.POST),
        act=lambda s, f: observation_service.side_effect_record(
            request=request,
            session=s,
            code=f.cleaned_data["code"],
            severity=f.cleaned_data["severity"],
            action=f.cleaned_data["action"],
            at=f.moment(),
        ),
        panel="observations",
        form_name="side_effect_form",
        action="session.side_effect",
        done=lambda e: f"Side effect: {side_effect_label(e.code)} ({e.severity}).",
    )


def adverse_event_notice(event) -> str:
    return (
        "Adverse event recorded"
        + (" and flagged for reporting" if event.report_required else "")
        + (" (REMS reportable)" if event.rems_reportable else "")
        + "."
    )


@login_required
@require_POST
def adverse_event(request, session_id: int):
    return answer(
        request,
        session_id,
        permission="session.chart",
        form=lambda s: forms.AdverseEventForm(request.POST),
        act=lambda s, f: observation_service.adverse_event_record(
            request=request,
            session=s,
            description=f.cleaned_data["description"],
            serious=f.cleaned_data["serious"],
            at=f.moment(),
        ),
        panel="observations",
        form_name="adverse_event_form",
        action="session.adverse_event",
        done=adverse_event_notice,
    )
