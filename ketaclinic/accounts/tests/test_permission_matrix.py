"""Every role against every view and API operation, with the answer read from the matrix.

The table below says, for each operation, how to call it and which permission it needs; the
expected answer is derived from ``PERMISSIONS``. So a change to the matrix changes what these
tests expect, and a view that checks the wrong permission fails here.

The rules (DESIGN.md "Where logic lives", accounts/permissions.py):

- a staff role that lacks the permission gets 403 (it knows the record exists);
- a patient opening another patient's record, by any URL or API, gets 404;
- an outsider (a patient account with no record) gets 404 for every patient;
- anonymous callers are sent to the login page (UI) or get 401 (API).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.accounts.permissions import PERMISSIONS, can, permissions_of
from ketaclinic.accounts.roles import Role
from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.conftest import make_user, signed_in
from ketaclinic.patients import chart, entries
from ketaclinic.patients.models import (
    Allergy,
    AntidepressantTrial,
    CareTeamMember,
    Diagnosis,
    Medication,
    OtherTreatment,
    Patient,
    WeightMeasurement,
)

# --- The people --------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """Who calls, and whose record they aim at."""

    label: str
    user: str | None  # key in the cast; None is anonymous
    role: Role | None
    target: str  # "patient_a" or "patient_b"
    own_record: bool = False  # the caller is the patient whose record is targeted


SUBJECTS = [
    Subject("anonymous", None, None, "patient_a"),
    Subject("prescriber", "prescriber", Role.PRESCRIBER, "patient_a"),
    Subject("nurse", "nurse", Role.NURSE, "patient_a"),
    Subject("therapist", "therapist", Role.THERAPIST, "patient_a"),
    Subject("front desk", "front_desk", Role.FRONT_DESK, "patient_a"),
    Subject("clinic admin", "clinic_admin", Role.CLINIC_ADMIN, "patient_a"),
    Subject("patient A on own record", "patient_a", Role.PATIENT, "patient_a", own_record=True),
    Subject("patient A on patient B", "patient_a", Role.PATIENT, "patient_b"),
    Subject("outsider", "outsider", Role.PATIENT, "patient_a"),
]


# --- The operations ------------------------------------------------------------------------


@dataclass
class Context:
    patient: Patient
    entry: Any = None


@dataclass(frozen=True)
class Operation:
    label: str
    method: str
    url: Callable[[Context], str]
    permission: str
    api: bool = False
    ok: int = 200
    data: Callable[[Context], dict] | None = None
    # Acts on one patient's record (fetched through access_patient).
    scoped: bool = True
    # Only a patient with a record of their own may use it; everyone else gets 404.
    patients_only: bool = False
    # How a patient-role caller is answered instead of the matrix: "not_found" (the staff
    # list does not exist for them), "own_only" (200, their own record only), "portal"
    # (their own chart redirects to the portal).
    for_patients: str | None = None
    # For writes: what must change when allowed and stay the same when refused.
    stored: Callable[[Context], Any] | None = None
    # For entered-in-error: the entry kind whose row must exist first.
    entry_kind: str | None = None
    # Called with a bearer token (an API client's way in) rather than a signed-in session.
    bearer: bool = False
    # For a section of a page: the page answers by ``page``'s permission, and the section
    # (found by this text) shows exactly when the caller holds ``permission``.
    section: str | None = None
    page: str | None = None


def today() -> dt.date:
    return timezone.localdate()


def demographics_form(ctx: Context) -> dict:
    p = ctx.patient
    return {
        "given_name": p.given_name,
        "family_name": p.family_name,
        "preferred_name": "Addy",
        "date_of_birth": p.date_of_birth.isoformat(),
        "sex": p.sex,
    }


NEW_PATIENT = {
    "given_name": "Cleo",
    "family_name": "Cruz",
    "date_of_birth": "1990-02-03",
    "sex": "female",
}

# A valid add-form for every entry kind, keyed by the URL slug.
ENTRY_FORMS: dict[str, dict] = {
    "weights": {"weight_kg": "72.5", "measured_on": "2024-03-01"},
    "diagnoses": {"icd10_code": "F33.1", "onset_on": "2020-01-01"},
    "trials": {
        "drug": "sertraline",
        "drug_class": "ssri",
        "dose_mg_per_day": "150",
        "duration_weeks": "8",
        "outcome": "no_response",
        "adequate": "on",
    },
    "treatments": {"kind": "tms", "outcome": "partial_response"},
    "medications": {"name": "sertraline", "drug_class": "ssri", "dose": "150 mg"},
    "allergies": {"substance": "penicillin", "severity": "mild"},
    "care-team": {"role": "outside_psychiatrist", "name": "Dr Ruth Okafor"},
}

# The permission each entry kind needs, written out here (not read from entries.KINDS) so a
# view that checks the wrong one is caught.
ENTRY_PERMISSIONS: dict[str, str] = {
    "weights": "weight.record",
    "diagnoses": "diagnosis.record",
    "trials": "history.record",
    "treatments": "history.record",
    "medications": "medication.record",
    "allergies": "allergy.record",
    "care-team": "careteam.edit",
}

# The permission each chart tab needs.
TAB_PERMISSIONS: dict[str, str] = {
    "summary": "patient.view",
    "history": "patient.view_clinical",
    "medications": "patient.view_clinical",
    "weights": "patient.view_clinical",
    "care-team": "patient.view",
    "coverage": "coverage.view",
    "intake": "intake.review",
    "imports": "fhir.import",
    "reminders": "reminder.resend",
    "portal": "portal.invite",
    "charges": "charges.view",
    "changes": "patient.view_changes",
}


def make_entry(kind: str, patient: Patient, by) -> Any:
    """One stored entry of ``kind`` for ``patient``, to be marked entered-in-error."""
    common = {"patient": patient, "recorded_by": by}
    if kind == "weights":
        return WeightMeasurement.objects.create(
            weight_kg=Decimal("70.0"), measured_on=dt.date(2024, 1, 1), **common
        )
    if kind == "diagnoses":
        return Diagnosis.objects.create(icd10_code="F33.1", **common)
    if kind == "trials":
        return AntidepressantTrial.objects.create(
            drug="sertraline",
            drug_class="ssri",
            dose_mg_per_day=Decimal(150),
            duration_weeks=8,
            outcome="no_response",
            adequate=True,
            **common,
        )
    if kind == "treatments":
        return OtherTreatment.objects.create(kind="tms", outcome="no_response", **common)
    if kind == "medications":
        return Medication.objects.create(name="sertraline", drug_class="ssri", dose="1", **common)
    if kind == "allergies":
        return Allergy.objects.create(substance="penicillin", severity="mild", **common)
    if kind == "care-team":
        return CareTeamMember.objects.create(role="other", name="Dr Who", **common)
    raise AssertionError(f"no entry factory for {kind}")


def entry_count(kind: str) -> Callable[[Context], int]:
    return lambda ctx: entries.KINDS[kind].model.objects.filter(patient=ctx.patient).count()


def entry_status(ctx: Context) -> str:
    ctx.entry.refresh_from_db()
    return ctx.entry.status


def preferred_name(ctx: Context) -> str:
    return Patient.objects.get(pk=ctx.patient.pk).preferred_name


def patient_count(ctx: Context) -> int:
    return Patient.objects.count()


def chart_operations() -> list[Operation]:
    ops = [
        Operation(
            "open the chart",
            "get",
            lambda ctx: f"/patients/{ctx.patient.pk}/",
            "patient.view",
            for_patients="portal",
        )
    ]
    ops += [
        Operation(
            f"open the {tab} tab",
            "get",
            lambda ctx, tab=tab: f"/patients/{ctx.patient.pk}/tab/{tab}/",
            permission,
            for_patients="portal",
        )
        for tab, permission in TAB_PERMISSIONS.items()
    ]
    return ops


def entry_operations() -> list[Operation]:
    ops: list[Operation] = []
    for kind, permission in ENTRY_PERMISSIONS.items():
        ops += [
            Operation(
                f"open the add-{kind} form",
                "get",
                lambda ctx, kind=kind: f"/patients/{ctx.patient.pk}/{kind}/add/",
                permission,
            ),
            Operation(
                f"add {kind}",
                "post",
                lambda ctx, kind=kind: f"/patients/{ctx.patient.pk}/{kind}/add/",
                permission,
                ok=302,
                data=lambda ctx, kind=kind: ENTRY_FORMS[kind],
                stored=entry_count(kind),
            ),
            Operation(
                f"mark {kind} entered in error",
                "post",
                lambda ctx, kind=kind: (
                    f"/patients/{ctx.patient.pk}/{kind}/{ctx.entry.pk}/entered-in-error/"
                ),
                permission,
                ok=302,
                data=lambda ctx: {"reason": "recorded on the wrong chart"},
                stored=entry_status,
                entry_kind=kind,
            ),
        ]
    return ops


def consultation(ctx: Context):
    """The consultation request the triage operations act on (one per test)."""
    from ketaclinic.intake.tests.makers import make_request

    if ctx.entry is None:
        ctx.entry = make_request("Ivo", "Petrov")
    return ctx.entry


def consultation_state(ctx: Context) -> tuple:
    found = consultation(ctx)
    found.refresh_from_db()
    return (found.status, found.red_flag, found.patient_id)


def triage_operations() -> list[Operation]:
    """Consultation requests (issue #12): strangers send them; front desk and prescribers triage."""
    api = "/api/v1/consultation-requests"
    return [
        Operation(
            "open the triage queue", "get", lambda ctx: "/triage/",
            "consultation_request.triage", scoped=False,
        ),
        Operation(
            "list consultation requests (API)", "get", lambda ctx: api,
            "consultation_request.triage", api=True, scoped=False,
        ),
        Operation(
            "open a consultation request", "get",
            lambda ctx: f"/triage/{consultation(ctx).pk}/",
            "consultation_request.triage", scoped=False,
        ),
        Operation(
            "read a consultation request (API)", "get",
            lambda ctx: f"{api}/{consultation(ctx).pk}",
            "consultation_request.triage", api=True, scoped=False,
        ),
        Operation(
            "move a consultation request along", "post",
            lambda ctx: f"/triage/{consultation(ctx).pk}/status/",
            "consultation_request.triage", scoped=False, ok=302,
            data=lambda ctx: {"status": "contacted"}, stored=consultation_state,
        ),
        Operation(
            "move a consultation request along (API)", "post",
            lambda ctx: f"{api}/{consultation(ctx).pk}/transition",
            "consultation_request.triage", api=True, scoped=False,
            data=lambda ctx: {"status": "contacted"}, stored=consultation_state,
        ),
        Operation(
            "note a red flag on a consultation request", "post",
            lambda ctx: f"/triage/{consultation(ctx).pk}/red-flag/",
            "consultation_request.red_flag", scoped=False, ok=302,
            data=lambda ctx: {"note": "Mentions hearing voices"}, stored=consultation_state,
        ),
        Operation(
            "note a red flag on a consultation request (API)", "post",
            lambda ctx: f"{api}/{consultation(ctx).pk}/red-flag",
            "consultation_request.red_flag", api=True, scoped=False,
            data=lambda ctx: {"note": "Mentions hearing voices"}, stored=consultation_state,
        ),
        Operation(
            "convert a consultation request to a patient", "post",
            lambda ctx: f"/triage/{consultation(ctx).pk}/convert/",
            "consultation_request.triage", scoped=False, ok=302,
            data=lambda ctx: {"sex": "female"}, stored=patient_count,
        ),
        Operation(
            "convert a consultation request to a patient (API)", "post",
            lambda ctx: f"{api}/{consultation(ctx).pk}/convert",
            "consultation_request.triage", api=True, scoped=False, ok=201,
            data=lambda ctx: {"sex": "female"}, stored=patient_count,
        ),
    ]  # fmt: skip


def invitation_url(ctx: Context) -> str:
    """The invitation needs an email on the record: give the target one first."""
    Patient.objects.filter(pk=ctx.patient.pk).update(email="ada@example.org")
    return f"/patients/{ctx.patient.pk}/portal-invitation/"


def withdrawal_url(ctx: Context) -> str:
    """The confirmation page for withdrawing patient A's signed IV consent."""
    from ketaclinic.intake.models import ConsentSignature

    signature, _ = ConsentSignature.objects.get_or_create(
        patient=ctx.patient,
        document_code="iv_ketamine",
        document_version=1,
        defaults={"document_title": "IV ketamine", "text_sha256": "0" * 64, "typed_name": "Ada"},
    )
    return f"/portal/consents/withdraw/{signature.pk}/"


def invitations_sent(ctx: Context) -> int:
    return AuditEvent.objects.filter(
        action="portal_invite.sent", outcome=Outcome.SUCCESS, patient_id=ctx.patient.pk
    ).count()


def coverage_count(ctx: Context) -> int:
    from ketaclinic.billing.models import Coverage

    return Coverage.objects.filter(patient=ctx.patient).count()


def coverage_operations() -> list[Operation]:
    """Billing (issue #13): coverage on the record, read by staff, kept by the front office."""
    body = {"self_pay": True, "effective_from": "2026-01-01"}
    return [
        Operation(
            "list coverage (API)",
            "get",
            lambda ctx: f"/api/v1/patients/{ctx.patient.pk}/coverage",
            "coverage.view",
            api=True,
        ),
        Operation(
            "add coverage (API)",
            "post",
            lambda ctx: f"/api/v1/patients/{ctx.patient.pk}/coverage",
            "coverage.edit",
            api=True,
            ok=201,
            data=lambda ctx: body,
            stored=coverage_count,
        ),
        Operation(
            "open the coverage form",
            "get",
            lambda ctx: f"/billing/patients/{ctx.patient.pk}/coverage/add/",
            "coverage.edit",
        ),
        Operation(
            "add coverage",
            "post",
            lambda ctx: f"/billing/patients/{ctx.patient.pk}/coverage/add/",
            "coverage.edit",
            ok=302,
            data=lambda ctx: body | {"self_pay": "on", "network": "unknown"},
            stored=coverage_count,
        ),
    ]


def esketamine_plan(ctx: Context):
    """The target patient's esketamine plan (made on first use), for the billing pages."""
    from ketaclinic.outcomes.tests.factories import make_plan

    plan = ctx.patient.plans.filter(route="esketamine").first()
    if plan is None:
        prescriber = User.objects.filter(role=Role.PRESCRIBER).first()
        plan = make_plan(
            ctx.patient, prescriber, start=today(), route="esketamine", status="active"
        )
    return plan


def plan_url(suffix: str) -> Callable[[Context], str]:
    def url(ctx: Context) -> str:
        return f"/billing/patients/{ctx.patient.pk}/plans/{esketamine_plan(ctx).pk}/{suffix}"

    return url


def authorization_status(ctx: Context) -> str:
    from ketaclinic.billing.models import PriorAuthorization

    found = PriorAuthorization.objects.filter(plan=esketamine_plan(ctx)).first()
    return found.status if found else ""


def prior_authorization_operations() -> list[Operation]:
    """Billing (issue #13): the desk chases authorizations; clinicians assemble the packet."""
    return [
        Operation(
            "open the prior-authorization form",
            "get",
            plan_url("authorization/"),
            "prior_auth.edit",
        ),
        Operation(
            "change a prior authorization",
            "post",
            plan_url("authorization/"),
            "prior_auth.edit",
            ok=302,
            data=lambda ctx: {"status": "to_submit"},
            stored=authorization_status,
        ),
        Operation(
            "open the prior-authorization packet",
            "get",
            plan_url("packet/"),
            "prior_auth.packet",
        ),
        Operation(
            "download the prior-authorization packet",
            "get",
            plan_url("packet.pdf"),
            "prior_auth.packet",
        ),
        # The plan page answers by plan.view (a patient's own redirects to the portal); the
        # authorization's section on it shows only to those who hold prior_auth.view.
        Operation(
            "see the prior authorization on the plan page",
            "get",
            lambda ctx: f"/patients/{ctx.patient.pk}/plans/{esketamine_plan(ctx).pk}/",
            "prior_auth.view",
            for_patients="portal",
            section='id="prior-authorization"',
            page="plan.view",
        ),
    ]


def staged_imports(ctx: Context) -> int:
    from ketaclinic.fhir.staging_models import StagedImport

    return StagedImport.objects.count()


REFERRAL_BUNDLE = {
    "resourceType": "Bundle",
    "id": "referral-42",
    "meta": {"source": "https://ehr.example.org"},
    "type": "collection",
    "entry": [
        {
            "resource": {
                "resourceType": "Patient",
                "name": [{"family": "Cruz", "given": ["Cleo"]}],
                "birthDate": "1990-02-03",
            }
        },
        {
            "resource": {
                "resourceType": "Condition",
                "subject": {"reference": "Patient/x"},
                "code": {
                    "coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "F33.2"}]
                },
            }
        },
    ],
}


def payment_count(ctx: Context) -> int:
    from ketaclinic.billing.models import Payment

    return Payment.objects.filter(patient=ctx.patient).count()


def fee_schedule_count(ctx: Context) -> int:
    from ketaclinic.billing.models import FeeSchedule

    return FeeSchedule.objects.count()


MONTH = "from=2026-03-01&to=2026-03-31"


def charged_session(ctx: Context):
    """A discharged esketamine session of the target patient, its lines proposed."""
    from ketaclinic.billing.tests.charge_makers import DAY, esketamine_session

    if ctx.entry is None:
        prescriber = User.objects.get(username="prescriber")
        nurse = User.objects.get(username="nurse")
        ctx.entry = esketamine_session(ctx.patient, prescriber, nurse, day=DAY, devices=3)
    return ctx.entry


def session_line_statuses(ctx: Context) -> list[str]:
    from ketaclinic.billing.models import ChargeLine

    lines = ChargeLine.objects.filter(session=charged_session(ctx)).order_by("pk")
    return list(lines.values_list("status", flat=True))


def confirmed_line(ctx: Context):
    """A confirmed line of the target's session (confirmed by the prescriber first)."""
    from ketaclinic.billing.models import ChargeLine

    session = charged_session(ctx)
    # The first S0013 line; a correction adds a reversal and a replacement after it.
    lines = ChargeLine.objects.filter(session=session, code="S0013").order_by("pk")
    if not lines.filter(status="confirmed").exists():
        response = signed_in(User.objects.get(username="prescriber")).post(
            f"/api/v1/sessions/{session.pk}/charges/confirm", "{}", content_type="application/json"
        )
        assert response.status_code == 200, response.content[:300]
    return lines.first()


def line_count(ctx: Context) -> int:
    from ketaclinic.billing.models import ChargeLine

    confirmed_line(ctx)
    return ChargeLine.objects.filter(patient=ctx.patient).count()


def billable_visit(ctx: Context):
    """A completed first consultation of the target patient (diagnosed), not yet billed."""
    from ketaclinic.scheduling import seed
    from ketaclinic.scheduling.models import Appointment, AppointmentType, OpeningHours, Status

    if ctx.entry is None:
        prescriber = User.objects.get(username="prescriber")
        Diagnosis.objects.create(patient=ctx.patient, icd10_code="F33.2", recorded_by=prescriber)
        seed.seed(AppointmentType, OpeningHours)
        start = timezone.now() - dt.timedelta(days=3)
        ctx.entry = Appointment.objects.create(
            patient=ctx.patient,
            type=AppointmentType.objects.get(code="consultation"),
            starts_at=start,
            ends_at=start + dt.timedelta(minutes=60),
            status=Status.COMPLETED,
            created_by=prescriber,
        )
    return ctx.entry


def visit_line_count(ctx: Context) -> int:
    from ketaclinic.billing.models import ChargeLine

    return ChargeLine.objects.filter(appointment=billable_visit(ctx)).count()


def charges_operations() -> list[Operation]:
    """Billing charges (issue #13): staff see charges; the clinicians who chart confirm and
    correct a session's codes and bill their own visits; the desk takes payments and
    exports; a clinic admin prices."""
    return [
        Operation(
            "list charges (API)",
            "get",
            lambda ctx: f"/api/v1/patients/{ctx.patient.pk}/charges",
            "charges.view",
            api=True,
        ),
        Operation(
            "open a superbill for dates",
            "get",
            lambda ctx: f"/billing/patients/{ctx.patient.pk}/superbill/?{MONTH}",
            "charges.view",
        ),
        Operation(
            "download a superbill for dates",
            "get",
            lambda ctx: f"/billing/patients/{ctx.patient.pk}/superbill.pdf?{MONTH}",
            "charges.view",
        ),
        Operation(
            "record a payment (API)",
            "post",
            lambda ctx: f"/api/v1/patients/{ctx.patient.pk}/payments",
            "payment.record",
            api=True,
            ok=201,
            data=lambda ctx: {"amount": "50.00", "method": "card", "received_on": "2026-03-02"},
            stored=payment_count,
        ),
        Operation(
            "export charges",
            "get",
            lambda ctx: f"/billing/charges/export.csv?{MONTH}",
            "charges.export",
            scoped=False,
        ),
        Operation(
            "code a session (API)",
            "post",
            lambda ctx: "/api/v1/billing/code-session",
            "charges.calculate",
            api=True,
            scoped=False,
            data=lambda ctx: {"route": "esketamine", "delivered_dose_mg": 56},
        ),
        Operation(
            "read the fee schedule (API)",
            "get",
            lambda ctx: "/api/v1/billing/fee-schedule",
            "fee_schedule.view",
            api=True,
            scoped=False,
        ),
        Operation(
            "change the fee schedule (API)",
            "post",
            lambda ctx: "/api/v1/billing/fee-schedule",
            "fee_schedule.edit",
            api=True,
            scoped=False,
            ok=201,
            data=lambda ctx: {"amounts": {"G2082": "400.00"}, "note": "demo"},
            stored=fee_schedule_count,
        ),
        Operation(
            "confirm a session's charges (API)",
            "post",
            lambda ctx: f"/api/v1/sessions/{charged_session(ctx).pk}/charges/confirm",
            "charges.confirm",
            api=True,
            data=lambda ctx: {},
            stored=session_line_statuses,
        ),
        Operation(
            "correct a confirmed charge (API)",
            "post",
            lambda ctx: f"/api/v1/charges/{confirmed_line(ctx).pk}/correct",
            "charges.correct",
            api=True,
            ok=201,
            data=lambda ctx: {"reason": "two devices, not three", "units": 56},
            stored=line_count,
        ),
        Operation(
            "bill a consultation visit (API)",
            "post",
            lambda ctx: f"/api/v1/appointments/{billable_visit(ctx).pk}/charges",
            "charges.visit",
            api=True,
            ok=201,
            data=lambda ctx: {"minutes": 50},
            stored=visit_line_count,
        ),
    ]


OPERATIONS: list[Operation] = [
    Operation(
        "list patients",
        "get",
        lambda ctx: "/patients/",
        "patient.list",
        scoped=False,
        for_patients="not_found",
    ),
    Operation(
        "list patients (API)",
        "get",
        lambda ctx: "/api/v1/patients",
        "patient.list",
        api=True,
        scoped=False,
        for_patients="own_only",
    ),
    *chart_operations(),
    Operation(
        "open the new-patient form",
        "get",
        lambda ctx: "/patients/new/",
        "patient.create",
        scoped=False,
    ),
    Operation(
        "create a patient",
        "post",
        lambda ctx: "/patients/new/",
        "patient.create",
        scoped=False,
        ok=302,
        data=lambda ctx: NEW_PATIENT,
        stored=patient_count,
    ),
    Operation(
        "create a patient (API)",
        "post",
        lambda ctx: "/api/v1/patients",
        "patient.create",
        api=True,
        scoped=False,
        ok=201,
        data=lambda ctx: NEW_PATIENT,
        stored=patient_count,
    ),
    Operation(
        "read a patient (API)",
        "get",
        lambda ctx: f"/api/v1/patients/{ctx.patient.pk}",
        "patient.view",
        api=True,
    ),
    Operation(
        "open the demographics form",
        "get",
        lambda ctx: f"/patients/{ctx.patient.pk}/edit/",
        "patient.edit_demographics",
    ),
    Operation(
        "edit demographics",
        "post",
        lambda ctx: f"/patients/{ctx.patient.pk}/edit/",
        "patient.edit_demographics",
        ok=302,
        data=demographics_form,
        stored=preferred_name,
    ),
    Operation(
        "edit demographics (API)",
        "post",
        lambda ctx: f"/api/v1/patients/{ctx.patient.pk}",
        "patient.edit_demographics",
        api=True,
        data=lambda ctx: {"preferred_name": "Addy"},
        stored=preferred_name,
    ),
    *entry_operations(),
    Operation(
        "list weights (API)",
        "get",
        lambda ctx: f"/api/v1/patients/{ctx.patient.pk}/weights",
        "patient.view_clinical",
        api=True,
    ),
    Operation(
        "record a weight (API)",
        "post",
        lambda ctx: f"/api/v1/patients/{ctx.patient.pk}/weights",
        "weight.record",
        api=True,
        ok=201,
        data=lambda ctx: {"weight_kg": "72.5", "measured_on": "2024-03-01"},
        stored=entry_count("weights"),
    ),
    *coverage_operations(),
    *charges_operations(),
    *prior_authorization_operations(),
    *triage_operations(),
    Operation(
        "invite a patient to the portal",
        "post",
        invitation_url,
        "portal.invite",
        ok=302,
        stored=invitations_sent,
    ),
    Operation("open the audit trail", "get", lambda ctx: "/audit/", "audit.view", scoped=False),
    # Issue #14: the FHIR face answers by the same matrix (OperationOutcome bodies).
    Operation(
        "read a patient (FHIR)",
        "get",
        lambda ctx: f"/fhir/R4/Patient/{ctx.patient.pk}",
        "patient.view",
        api=True,
    ),
    Operation(
        "search conditions (FHIR)",
        "get",
        lambda ctx: f"/fhir/R4/Condition?patient={ctx.patient.pk}",
        "patient.view_clinical",
        api=True,
    ),
    Operation(
        "search the audit trail (FHIR)",
        "get",
        lambda ctx: "/fhir/R4/AuditEvent",
        "audit.view",
        api=True,
        scoped=False,
    ),
    # Bulk Data export (issue #14): the permission is checked before the request itself,
    # so an allowed caller sending no 'Prefer: respond-async' (as here) gets 400.
    Operation(
        "start a whole-clinic bulk export (FHIR)",
        "get",
        lambda ctx: "/fhir/R4/$export",
        "fhir.export_system",
        api=True,
        scoped=False,
        ok=400,
    ),
    Operation(
        "start an all-patients bulk export (FHIR)",
        "get",
        lambda ctx: "/fhir/R4/Patient/$export",
        "fhir.export",
        api=True,
        scoped=False,
        ok=400,
    ),
    Operation(
        "list the cohort groups (FHIR)",
        "get",
        lambda ctx: "/fhir/R4/Group",
        "fhir.export",
        api=True,
        scoped=False,
    ),
    Operation(
        "send records from another EHR (FHIR import)",
        "post",
        lambda ctx: "/fhir/R4/",
        "fhir.import",
        api=True,
        scoped=False,
        ok=201,
        data=lambda ctx: REFERRAL_BUNDLE,
        stored=staged_imports,
        bearer=True,
    ),
    Operation("open the background jobs", "get", lambda ctx: "/jobs/", "jobs.view", scoped=False),
    Operation(
        "open the portal",
        "get",
        lambda ctx: "/portal/",
        "patient.view_clinical",
        scoped=False,
        patients_only=True,
    ),
    Operation(
        "open the intake questionnaire",
        "get",
        lambda ctx: "/portal/intake/",
        "intake.answer",
        scoped=False,
        patients_only=True,
    ),
    Operation(
        "open the consent forms",
        "get",
        lambda ctx: "/portal/consents/",
        "consent.sign",
        scoped=False,
        patients_only=True,
    ),
    Operation(
        "open the consent withdrawal",
        "get",
        withdrawal_url,
        "consent.sign",
        scoped=False,
        patients_only=True,
    ),
]


def expected_status(op: Operation, who: Subject) -> int:
    """The answer the matrix prescribes for ``who`` doing ``op``."""
    if who.role is None:
        return 401 if op.api else 302
    if op.patients_only:
        has_record = who.user != "outsider"
        allowed = who.role == Role.PATIENT and has_record and who.role in PERMISSIONS[op.permission]
        return op.ok if allowed else 404
    if op.scoped:
        if who.role not in PERMISSIONS["patient.view"]:
            return 404
        if who.role == Role.PATIENT and not who.own_record:
            return 404
    if who.role == Role.PATIENT and op.for_patients:
        return {"not_found": 404, "own_only": 200, "portal": 302}[op.for_patients]
    return op.ok if who.role in PERMISSIONS[op.page or op.permission] else 403


def cases():
    for op in OPERATIONS:
        for who in SUBJECTS:
            if not op.scoped and who.target == "patient_b":
                continue  # without a target record this is the same call as "own record"
            yield pytest.param(op, who, id=f"{who.label} - {op.label}")


# --- The matrix, cell by cell ------------------------------------------------------------


@pytest.fixture
def records(cast, patient_a, patient_b):
    return {"patient_a": patient_a, "patient_b": patient_b}


def bearer_client(user: User) -> Client:
    out = StringIO()
    call_command("token_create", user.username, "--name", "matrix", stdout=out)
    return Client(HTTP_AUTHORIZATION=f"Bearer {out.getvalue().strip().split()[-1]}")


def call(client: Client, op: Operation, ctx: Context):
    url = op.url(ctx)
    data = op.data(ctx) if op.data else None
    if op.method == "get":
        return client.get(url)
    if op.api:
        return client.post(url, json.dumps(data or {}), content_type="application/json")
    return client.post(url, data or {})


@pytest.mark.parametrize(("op", "who"), list(cases()))
def test_each_caller_gets_what_the_matrix_allows(op, who, cast, records, nurse):
    ctx = Context(patient=records[who.target])
    if op.entry_kind:
        ctx.entry = make_entry(op.entry_kind, ctx.patient, nurse)
    user = cast[who.user] if who.user else None
    client = (bearer_client(user) if op.bearer else signed_in(user)) if user else Client()
    before = op.stored(ctx) if op.stored else None
    refusals_before = AuditEvent.objects.filter(action="access.refused").count()

    response = call(client, op, ctx)

    want = expected_status(op, who)
    assert response.status_code == want, response.content[:300]

    if op.section and want == 200:
        shown = op.section in response.content.decode()
        assert shown == (who.role in PERMISSIONS[op.permission]), op.section

    if want == 302 and user is None:
        assert response["Location"].startswith("/accounts/login/?next=")
    if want == 302 and op.for_patients == "portal" and who.role == Role.PATIENT:
        assert response["Location"] == "/portal/"
    if op.api and want >= 400:
        body = response.json()
        if op.url(ctx).startswith("/fhir/"):  # FHIR errors are OperationOutcome resources
            assert body["resourceType"] == "OperationOutcome"
        else:
            assert set(body) == {"message", "errors"}

    if op.stored:
        after = op.stored(ctx)
        if want == op.ok and user is not None:
            assert after != before, "an allowed write must store something"
        else:
            assert after == before, "a refused write must store nothing"

    # Every refusal by role or by record is written to the audit trail.
    if want == 403 or (want == 404 and op.scoped):
        refusals = AuditEvent.objects.filter(action="access.refused").order_by("-seq")
        assert refusals.count() == refusals_before + 1
        refusal = refusals.first()
        assert refusal.outcome == Outcome.REFUSED
        assert refusal.actor_id == user.pk
        if op.scoped:
            assert refusal.patient_id == ctx.patient.pk


def test_a_patient_listing_through_the_api_sees_only_their_own_record(cast, patient_a):
    rows = signed_in(cast["patient_a"]).get("/api/v1/patients").json()

    assert [row["id"] for row in rows] == [patient_a.pk]


def test_an_outsider_listing_through_the_api_sees_nobody(cast):
    assert signed_in(cast["outsider"]).get("/api/v1/patients").json() == []


def test_an_unknown_entry_kind_is_not_found(cast, patient_a):
    response = signed_in(cast["prescriber"]).get(f"/patients/{patient_a.pk}/vitamins/add/")

    assert response.status_code == 404


def test_an_unknown_chart_tab_is_not_found(cast, patient_a):
    response = signed_in(cast["prescriber"]).get(f"/patients/{patient_a.pk}/tab/billing/")

    assert response.status_code == 404


def test_a_missing_patient_is_not_found_for_staff(cast):
    assert signed_in(cast["prescriber"]).get("/patients/999999/").status_code == 404
    assert signed_in(cast["prescriber"]).get("/api/v1/patients/999999").status_code == 404


def test_an_inactive_staff_account_is_refused(prescriber, patient_a):
    prescriber.is_active = False
    prescriber.save(update_fields=["is_active"])

    response = signed_in(prescriber).get("/api/v1/patients")

    assert response.status_code == 401


# --- The table itself ----------------------------------------------------------------------


# The record's nouns: every permission named after one of them guards a view or API
# operation of the patient record, audit trail or portal, and must be in OPERATIONS. Later
# apps (scheduling, screening, plans...) test their own permissions with their own views.
RECORD_NOUNS = {
    "patient",
    "weight",
    "diagnosis",
    "history",
    "medication",
    "allergy",
    "careteam",
    "audit",
    "jobs",
    "coverage",
    "consultation_request",
    "intake",
    "consent",
    "reminder",
    "portal",
    "charges",
    "payment",
    "fee_schedule",
    "prior_auth",
    "fhir",
}


def test_the_table_exercises_every_permission_of_the_record():
    exercised = {op.permission for op in OPERATIONS}
    of_the_record = {name for name in PERMISSIONS if name.split(".")[0] in RECORD_NOUNS}

    assert exercised == of_the_record


def test_the_table_covers_every_entry_kind():
    assert set(ENTRY_PERMISSIONS) == set(entries.KINDS)
    assert {op.entry_kind for op in OPERATIONS if op.entry_kind} == set(entries.KINDS)


def test_the_table_covers_every_chart_tab_of_the_record():
    of_the_record = {
        tab
        for tab, (_, permission) in chart.TABS.items()
        if permission.split(".")[0] in RECORD_NOUNS
    }

    assert set(TAB_PERMISSIONS) == of_the_record


def test_the_cast_covers_every_role():
    assert {who.role for who in SUBJECTS if who.role} == set(Role)


# --- can() and permissions_of() ------------------------------------------------------------


@pytest.mark.parametrize("who", ["prescriber", "patient_a", "outsider"])
def test_can_raises_for_an_unknown_permission(cast, who):
    with pytest.raises(KeyError):
        can(cast[who], "patient.veiw")


def test_can_raises_for_an_unknown_permission_even_when_nobody_is_signed_in():
    with pytest.raises(KeyError):
        can(AnonymousUser(), "patient.veiw")


def test_anonymous_callers_hold_no_permission():
    assert permissions_of(AnonymousUser()) == frozenset()


@pytest.mark.parametrize("role", list(Role))
def test_each_role_holds_exactly_the_permissions_the_matrix_gives_it(db, role):
    user = make_user(f"someone-{role}", role)

    assert permissions_of(user) == {name for name, roles in PERMISSIONS.items() if role in roles}


def test_a_deactivated_account_holds_no_permission(prescriber):
    prescriber.is_active = False

    assert permissions_of(prescriber) == frozenset()
