"""Vital signs and safety alerts: readings entered by hand, alerts acknowledged, and the
monitoring panel the page polls (204 when nothing changed, so a quiet session costs two small
queries every 30 seconds). Writes answer as :mod:`.session_writes` describes."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from . import forms, session_service, vitals_service
from .access import access_session
from .models import SafetyAlert
from .session_page import monitoring_context
from .session_record import current_marker
from .session_writes import PANELS, answer, audit_read, oob


@login_required
@require_GET
def monitoring_panel(request, session_id: int):
    """Polled by the page: 204 when nothing changed, else the fresh flow sheet and alerts."""
    session = access_session(request, session_id, "session.view")
    if request.GET.get("since") == current_marker(session):
        return HttpResponse(status=204)
    audit_read(request, session, "monitoring")
    context = monitoring_context(request, session)
    html = render_to_string(PANELS["vitals"], context, request) + oob(
        render_to_string(PANELS["alerts"], context, request)
    )
    return HttpResponse(html)


def vitals_notice(result) -> str:
    row, alerts = result
    text = (
        f"Vital signs at {session_service.local_time(row.at)}: {vitals_service.reading_text(row)}."
    )
    return text + "".join(f" ALERT {a.get_level_display().upper()}: {a.label}." for a in alerts)


@login_required
@require_POST
def vitals(request, session_id: int):
    return answer(
        request,
        session_id,
        permission="session.chart",
        form=lambda s: forms.VitalsForm(request.POST),
        act=lambda s, f: vitals_service.vitals_enter(
            request=request, session=s, values=f.values(), at=f.moment()
        ),
        panel="vitals-entry",
        form_name="vitals_form",
        action="session.vitals",
        done=vitals_notice,
    )


@login_required
@require_POST
def acknowledge(request, session_id: int, alert_id: int):
    def act(session, form):
        alert = SafetyAlert.objects.filter(pk=alert_id, session=session).first()
        if alert is None:
            raise ValidationError({"action_taken": "No such alert in this session."})
        return vitals_service.alert_acknowledge(
            request=request,
            session=session,
            alert=alert,
            action_taken=form.cleaned_data["action_taken"],
        )

    return answer(
        request,
        session_id,
        permission="session.chart",
        form=lambda s: forms.AcknowledgeForm(request.POST),
        act=act,
        panel="alerts",
        form_name="ack_forms",
        keyed=alert_id,
        action="session.alert_acknowledged",
        done=lambda a: f"Alert “{a.label}” acknowledged by {a.acknowledged_by.display_name}.",
    )
