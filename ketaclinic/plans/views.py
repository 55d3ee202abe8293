"""Treatment-plan pages: draft a plan on a signed screening, read it, sign it, amend the dose,
end or strike it out. Patients read their plan in the portal, not here."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from ketaclinic.accounts.permissions import can
from ketaclinic.patients.access import access_patient_or_portal, refuse
from ketaclinic.patients.models import CareRole, Patient
from ketaclinic.protocols.catalog import catalog
from ketaclinic.protocols.models import Protocol
from ketaclinic.screening import derivation
from ketaclinic.screening import services as screening_services
from ketaclinic.web.forms import add_service_errors

from . import concentration, proposal, sections, services
from .forms import DoseChangeForm, PlanForm, StatusForm
from .models import PlannedSession, PlanStatus, TreatmentPlan


def detail_url(plan: TreatmentPlan) -> str:
    return reverse("plans:detail", kwargs={"patient_id": plan.patient_id, "plan_id": plan.pk})


def _plan(request, patient: Patient, plan_id: int) -> TreatmentPlan:
    """The plan of ``patient`` (already access-checked) with what its page shows, or 404."""
    plan = (
        TreatmentPlan.objects.select_related(
            "protocol", "screening__signed_by", "signed_by", "therapist", "created_by"
        )
        .prefetch_related("planned_sessions", "dose_changes__changed_by")
        .filter(pk=plan_id, patient=patient)
        .first()
    )
    if plan is None:
        refuse(request, patient.pk, "TreatmentPlan.view", "no such plan for this patient")
        raise Http404("No such plan.")
    return plan


# --- New plan -------------------------------------------------------------------------------


def usable_screenings(patient: Patient) -> list:
    snapshot = screening_services.record_snapshot(patient)
    used = set(
        patient.plans.exclude(status=PlanStatus.ENTERED_IN_ERROR).values_list(
            "screening_id", flat=True
        )
    )
    return [
        s
        for s in patient.screenings.signed_eligible()
        if not screening_services.usability_problems(s, snapshot=snapshot, used=used)
    ]


def _therapists(patient: Patient):
    return patient.care_team.valid().filter(role=CareRole.THERAPIST, user__isnull=False)


def _initial(patient: Patient, screening) -> dict:
    initial = {
        "start_date": timezone.localdate(),
        "working_weekdays": [0, 1, 2, 3, 4],
        "screening": screening.pk if screening else None,
    }
    if screening is None:
        return initial
    protocol = Protocol.objects.chosen_for(screening.route, screening.indication)
    if protocol is not None:
        initial["protocol"] = protocol.code
        if protocol.default_mg_per_kg_min is not None:
            initial["dose_mg_per_kg"] = protocol.default_mg_per_kg_min
        if protocol.first_session_max_mg:
            first = protocol.first_session_max_mg
            initial["dose_mg"] = first
        initial["infusion_minutes"] = protocol.infusion_default_minutes
        schedules = protocol.course_schedules or []
        initial["schedule_code"] = schedules[0] if schedules else ""
    medications = list(
        patient.medications.filter(status="active").values_list("name", "drug_class")
    )
    antidepressants = derivation.oral_antidepressants(medications)
    if antidepressants:
        initial["concurrent_oral_antidepressant"] = ", ".join(antidepressants)
    therapist = _therapists(patient).first()
    if therapist is not None:
        initial["therapist"] = therapist.user_id
    return initial


@login_required
def plan_new(request, patient_id: int):
    # The form shows the weight and screenings: its GET is an audited read.
    section = "plan-form" if request.method == "GET" else ""
    patient = access_patient_or_portal(request, patient_id, "plan.create", section=section)
    if patient is None:
        return redirect("portal")
    screenings = usable_screenings(patient)
    therapists = list(_therapists(patient).select_related("user"))
    form = PlanForm(
        request.POST or None,
        screenings=screenings,
        therapists=therapists,
        initial=_initial(patient, screenings[0] if screenings else None),
    )
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.plan_create(
                request=request, patient=patient, data=form.data_for_service()
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Draft plan saved. Check it, then sign it.")
            return redirect(detail_url(plan))
    status = 422 if request.method == "POST" else 200
    weight = patient.current_weight()
    return render(
        request,
        "plans/form.html",
        {
            "patient": patient,
            "form": form,
            "screenings": screenings,
            "weight": weight,
            "weight_max_age_days": catalog().dosing_policy.weight_max_age_days,
            "weight_too_old": weight is None
            or weight.age_in_days() > catalog().dosing_policy.weight_max_age_days,
            "protocols": Protocol.objects.active(),
        },
        status=status,
    )


# --- The plan page --------------------------------------------------------------------------


def plan_context(request, patient: Patient, plan: TreatmentPlan) -> dict:
    course = services.proposed_course(plan) if plan.is_draft else list(plan.planned_sessions.all())
    context = {
        "today": timezone.localdate(),
        "patient": patient,
        "plan": plan,
        "strip": proposal.calendar_strip(course),
        "course": course,
        "course_is_preview": plan.is_draft,
        "show_dose": can(request.user, "plan.view_dose"),
        "extra_sections": sections.sections_for(request, plan),
    }
    if context["show_dose"]:
        steps = plan.dose_steps()
        current = max(steps, key=lambda step: step.from_session)
        creep = plan.dose_creep(steps)
        escalated = {e.session_number: e for e in creep.escalations}
        context.update(
            steps=steps,
            current_dose=current,
            creep=creep,
            session_doses=[
                {
                    "session": session,
                    "dose": plan.dose_for_session(session.number, steps),
                    "escalation": escalated.get(session.number),
                }
                for session in course
            ],
            protocol_rules=plan.protocol,
            amend_form=DoseChangeForm(
                initial={
                    "from_session": next(
                        (s.number for s in course if s.date >= timezone.localdate()), 2
                    )
                }
            ),
            status_form=StatusForm(draft=plan.is_draft),
            concentration=concentration.plan_figure(plan, patient=patient, dose_mg=current.dose_mg),
        )
    return context


@login_required
def plan_detail(request, patient_id: int, plan_id: int):
    patient = access_patient_or_portal(request, patient_id, "plan.view", section="plan")
    if patient is None:
        return redirect("portal")
    plan = _plan(request, patient, plan_id)
    return render(request, "plans/detail.html", plan_context(request, patient, plan))


@login_required
@require_POST
def plan_sign(request, patient_id: int, plan_id: int):
    patient = access_patient_or_portal(request, patient_id, "plan.sign")
    if patient is None:
        return redirect("portal")
    plan = _plan(request, patient, plan_id)
    try:
        services.plan_sign(request=request, plan=plan)
    except services.PlanConflict as conflict:
        messages.error(request, conflict.message)
    except ValidationError as error:
        messages.error(request, "Not signed: " + " ".join(error.messages))
    else:
        stored = PlannedSession.objects.filter(plan=plan).count()
        messages.success(request, f"Plan signed and active; {stored} sessions proposed.")
    return redirect(detail_url(plan))


@login_required
@require_POST
def plan_amend_dose(request, patient_id: int, plan_id: int):
    patient = access_patient_or_portal(request, patient_id, "plan.amend")
    if patient is None:
        return redirect("portal")
    plan = _plan(request, patient, plan_id)
    form = DoseChangeForm(request.POST)
    if form.is_valid():
        try:
            services.plan_amend_dose(request=request, plan=plan, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Dose changed; the previous dose stays on record.")
            return redirect(detail_url(plan))
    context = plan_context(request, patient, _plan(request, patient, plan_id))
    context["amend_form"] = form
    return render(request, "plans/detail.html", context, status=422)


@login_required
@require_POST
def plan_status(request, patient_id: int, plan_id: int):
    patient = access_patient_or_portal(request, patient_id, "plan.amend")
    if patient is None:
        return redirect("portal")
    plan = _plan(request, patient, plan_id)
    form = StatusForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError({"status": "Choose a status."})
        services.plan_transition(
            request=request,
            plan=plan,
            status=form.cleaned_data["status"],
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Plan is now {plan.get_status_display().lower()}.")
    return redirect(detail_url(plan))
