"""After observation: discharge signed against the criteria, the printed instructions, and
the therapist's integration note. Writes go to the discharge services and answer as
:mod:`.session_writes` describes."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from . import discharge_service, forms, session_service
from .access import access_session
from .session_writes import answer, audit_read


@login_required
@require_POST
def discharge(request, session_id: int):
    return answer(
        request,
        session_id,
        permission="session.discharge",
        form=lambda s: forms.DischargeForm(request.POST, route=s.route),
        act=lambda s, f: discharge_service.discharge_sign(
            request=request,
            session=s,
            criteria=f.ticked(),
            whom_to_call=f.cleaned_data["whom_to_call"],
        ),
        panel="discharge",
        form_name="discharge_form",
        action="session.discharge",
        done=lambda d: (
            f"Discharged by {d.signed_by.display_name} at {session_service.local_time(d.signed_at)}."
        ),
    )


@login_required
@require_GET
def instructions(request, session_id: int):
    """The discharge instructions as signed, to print for the patient."""
    session = access_session(request, session_id, "session.view")
    discharge = getattr(session, "discharge", None)
    if discharge is None:
        raise Http404("Not discharged yet.")
    audit_read(request, session, "discharge-instructions")
    return render(
        request, "charting/instructions.html", {"session": session, "discharge": discharge}
    )


@login_required
@require_POST
def integration_note(request, session_id: int):
    return answer(
        request,
        session_id,
        permission="integration_note.write",
        form=lambda s: forms.IntegrationNoteForm(request.POST),
        act=lambda s, f: discharge_service.integration_note_write(
            request=request, session=s, note=f.cleaned_data["note"]
        ),
        panel="notes",
        form_name="note_form",
        action="session.integration_note",
        done=lambda n: "Integration note saved.",
    )
