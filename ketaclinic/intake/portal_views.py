"""The patient's intake pages on the portal: the questionnaire and signing consent.

Only a signed-in patient with a record of their own reaches these pages (anyone else: 404);
every page read and every write is audited.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from ketaclinic.accounts.roles import Role
from ketaclinic.patients.access import access_patient
from ketaclinic.patients.models import Patient

from . import consent, consent_services, questionnaire, questionnaire_services

MEDICATION_ROWS = 4
TRIAL_ROWS = 4
TREATMENT_ROWS = 3


def own_patient(request, permission: str, section: str = "") -> Patient:
    """The signed-in patient's own record, or 404 for anyone else."""
    record = getattr(request.user, "patient_record", None)
    if request.user.role != Role.PATIENT or record is None:
        raise Http404
    return access_patient(request, record.pk, permission, section=section)


def _rows(post, prefix: str, count: int, fields: tuple[str, ...], key: str) -> list[dict]:
    """The filled-in rows of a repeated part; a row without its key field is left out."""
    rows = []
    for index in range(count):
        row = {name: post.get(f"{prefix}-{index}-{name}", "") for name in fields}
        if row[key].strip() or (key == "kind" and row["kind"]):
            rows.append(row)
    return rows


def answers_from(post) -> dict:
    """The form's fields as the questionnaire's answers (checked by ``questionnaire.check``)."""
    return {
        "history": post.getlist("history"),
        "pregnancy": post.get("pregnancy") or None,
        "medications": _rows(post, "med", MEDICATION_ROWS, ("name", "dose", "frequency"), "name"),
        "trials": _rows(post, "trial", TRIAL_ROWS, ("drug", "dose", "weeks", "outcome"), "drug"),
        "treatments": _rows(
            post, "treatment", TREATMENT_ROWS, ("kind", "description", "outcome"), "kind"
        ),
        "substance_details": post.get("substance_details", ""),
        "emergency_contact": {
            "name": post.get("emergency_name", ""),
            "phone": post.get("emergency_phone", ""),
        },
        "driver": {"name": post.get("driver_name", ""), "phone": post.get("driver_phone", "")},
    }


def _initial(patient: Patient) -> dict:
    submission = questionnaire_services.latest_submission(patient)
    if submission is not None:
        return submission.answers
    return {
        "history": [],
        "emergency_contact": {
            "name": patient.emergency_contact_name,
            "phone": patient.emergency_contact_phone,
        },
    }


def _padded(rows: list, count: int) -> list:
    return list(rows[:count]) + [{}] * max(0, count - len(rows))


@login_required
@require_http_methods(["GET", "POST"])
def intake_form(request):
    """The intake questionnaire on one page; sending it again replaces the pending answers."""
    patient = own_patient(
        request, "intake.answer", section="intake form" if request.method == "GET" else ""
    )
    answers = _initial(patient)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        answers = answers_from(request.POST)
        try:
            questionnaire_services.submission_create(
                request=request, patient=patient, answers=answers
            )
        except ValidationError as error:
            errors = {k: " ".join(v) for k, v in error.message_dict.items()}
            status = 422
        else:
            messages.success(
                request, "Thank you. Your answers are sent; a clinician will go through them."
            )
            return redirect("portal_intake:consents")
    sections = {}
    for question in questionnaire.questions():
        sections.setdefault(question.section, []).append(question)
    return render(
        request,
        "intake/portal/intake_form.html",
        {
            "patient": patient,
            "answers": answers,
            "chosen": set(answers.get("history") or []),
            "sections": sections,
            "pregnancy_choices": questionnaire.PREGNANCY.items(),
            "outcome_choices": questionnaire.OUTCOMES.items(),
            "treatment_choices": questionnaire.TREATMENT_KINDS.items(),
            "medications": _padded(answers.get("medications") or [], MEDICATION_ROWS),
            "trials": _padded(answers.get("trials") or [], TRIAL_ROWS),
            "treatments": _padded(answers.get("treatments") or [], TREATMENT_ROWS),
            "errors": errors,
            "submitted": questionnaire_services.latest_submission(patient),
        },
        status=status,
    )


@login_required
def consents(request):
    """Every consent document, and whether the patient signed its current version."""
    patient = own_patient(request, "consent.sign", section="consents")
    rows = []
    for document in consent.documents().values():
        rows.append(
            {
                "document": document,
                "signature": consent_services.current_signature(patient, document),
            }
        )
    return render(
        request,
        "intake/portal/consents.html",
        {
            "patient": patient,
            "rows": rows,
            "signatures": consent_services.signatures(patient),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def consent_sign(request, code: str):
    """The document's exact text, and signing it with the full name typed."""
    patient = own_patient(
        request, "consent.sign", section="consent document" if request.method == "GET" else ""
    )
    document = consent.documents().get(code)
    if document is None:
        raise Http404
    error = ""
    status = 200
    if request.method == "POST":
        try:
            shown_version = int(request.POST.get("version", ""))
        except ValueError:
            shown_version = None
        try:
            consent_services.consent_sign(
                request=request,
                patient=patient,
                document=document,
                typed_name=request.POST.get("typed_name", ""),
                shown_version=shown_version,
                shown_sha256=request.POST.get("sha256", ""),
            )
        except ValidationError as problem:
            error, status = " ".join(problem.message_dict.get("typed_name", [])), 422
        except (consent_services.ConsentChanged, consent_services.AlreadySigned) as conflict:
            error, status = str(conflict), 409
        else:
            messages.success(request, f"Signed: {document.title}.")
            return redirect("portal_intake:consents")
    return render(
        request,
        "intake/portal/consent_sign.html",
        {
            "patient": patient,
            "document": document,
            "signature": consent_services.current_signature(patient, document),
            "error": error,
            "typed_name": request.POST.get("typed_name", ""),
        },
        status=status,
    )
