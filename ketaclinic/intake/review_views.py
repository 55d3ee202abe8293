"""Staff review of the patient's intake: a chart tab listing what the patient reported, and
confirming each item into the record or setting it aside. Signed consents are listed too."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ketaclinic.accounts.access import Refusal, refusal_reason
from ketaclinic.accounts.permissions import can
from ketaclinic.patients import vocabulary
from ketaclinic.patients.access import access_patient, refuse
from ketaclinic.patients.chart import chart_context
from ketaclinic.patients.models import Patient, TreatmentKind, TrialOutcome

from . import consent, consent_services, questionnaire_services, withdrawal
from .questionnaire_models import IntakeItem, ItemStatus

TAB = "intake"


def tab_url(patient_id: int) -> str:
    return reverse("patients:chart_tab", kwargs={"patient_id": patient_id, "tab": TAB})


def intake_tab(request, patient: Patient) -> dict:
    """The chart tab's context: pending items first, then reviewed ones, and consents."""
    items = list(
        IntakeItem.objects.filter(patient=patient)
        .exclude(status=ItemStatus.SUPERSEDED)
        .select_related("reviewed_by")
        .order_by("id")
    )
    for item in items:
        item.may_confirm = questionnaire_services.may_confirm(request.user, item)
    classes = vocabulary.medication_classes()
    consents = [
        {
            "document": document,
            "signature": consent_services.current_signature(patient, document),
        }
        for document in consent.documents().values()
    ]
    return {
        "intake_pending": [i for i in items if i.status == ItemStatus.PENDING],
        "intake_reviewed": [i for i in items if i.status != ItemStatus.PENDING],
        "intake_submission": questionnaire_services.latest_submission(patient),
        "medication_classes": sorted((code, c.get("display", code)) for code, c in classes.items()),
        "antidepressant_classes": sorted(
            (code, c.get("display", code)) for code, c in classes.items() if c.get("antidepressant")
        ),
        "trial_outcomes": TrialOutcome.choices,
        "treatment_kinds": TreatmentKind.choices,
        "consents": consents,
        "consent_signatures": withdrawal.signature_history(patient),  # withdrawn ones too
    }


def _item(request, patient_id: int, item_id: int) -> IntakeItem:
    patient = access_patient(request, patient_id, "intake.review")
    item = (
        IntakeItem.objects.select_related("patient", "reviewed_by")
        .filter(pk=item_id, patient=patient)
        .first()
    )
    if item is None:
        refuse(request, patient_id, "intake.review", "no such intake item for this patient")
        raise Http404("No such item.")
    if not questionnaire_services.may_confirm(request.user, item):
        permission = questionnaire_services.confirm_permission(item)
        refuse(request, patient_id, permission, refusal_reason(request.user, permission))
        raise Refusal(request.user, permission)
    return item


def _tab_with_error(request, item: IntakeItem, errors: dict[str, list[str]], status: int):
    context = chart_context(request, item.patient, TAB)
    context.update(review_errors=errors, review_item_id=item.pk)
    return render(request, "patients/chart.html", context, status=status)


@login_required
@require_POST
def item_confirm(request, patient_id: int, item_id: int):
    item = _item(request, patient_id, item_id)
    try:
        questionnaire_services.item_confirm(request=request, item=item, values=request.POST.dict())
    except ValidationError as error:
        return _tab_with_error(request, item, error.message_dict, 422)
    except questionnaire_services.ItemAlreadyReviewed as conflict:
        return _tab_with_error(request, item, {"item": [str(conflict)]}, 409)
    messages.success(request, f"Confirmed into the record: {item.label}")
    return redirect(tab_url(patient_id))


@login_required
@require_POST
def item_set_aside(request, patient_id: int, item_id: int):
    item = _item(request, patient_id, item_id)
    try:
        questionnaire_services.item_set_aside(
            request=request, item=item, reason=request.POST.get("reason", "")
        )
    except ValidationError as error:
        return _tab_with_error(request, item, error.message_dict, 422)
    except questionnaire_services.ItemAlreadyReviewed as conflict:
        return _tab_with_error(request, item, {"item": [str(conflict)]}, 409)
    messages.success(request, f"Set aside: {item.label}")
    return redirect(tab_url(patient_id))


def may_review(user) -> bool:
    return can(user, "intake.review")
