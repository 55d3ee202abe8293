"""The permission matrix: which role may do what. One table, read by views, API and tests.

Minimum necessary (HIPAA 45 CFR 164.502(b)): front desk and clinic admins work with
demographics and scheduling, not with the clinical record. Patients see only their own
record (enforced by ``access_patient``), read-only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .roles import Role

if TYPE_CHECKING:
    from .models import User

CLINICIANS = frozenset({Role.PRESCRIBER, Role.NURSE, Role.THERAPIST})
STAFF = CLINICIANS | {Role.FRONT_DESK, Role.CLINIC_ADMIN}

PERMISSIONS: dict[str, frozenset[Role]] = {
    # Finding and opening patients.
    "patient.list": STAFF,
    "patient.view": STAFF | {Role.PATIENT},
    "patient.view_clinical": CLINICIANS | {Role.PATIENT},
    "patient.create": frozenset({Role.PRESCRIBER, Role.NURSE, Role.FRONT_DESK, Role.CLINIC_ADMIN}),
    "patient.edit_demographics": frozenset(
        {Role.PRESCRIBER, Role.NURSE, Role.FRONT_DESK, Role.CLINIC_ADMIN}
    ),
    # Consultation requests (issue #12): strangers send them; the front desk and prescribers
    # triage and convert them; only a prescriber notes an early clinical red flag.
    "consultation_request.triage": frozenset({Role.FRONT_DESK, Role.PRESCRIBER}),
    "consultation_request.red_flag": frozenset({Role.PRESCRIBER}),
    # Intake and consent (issue #12): the patient answers their own intake and signs their own
    # consent on the portal; clinicians read the intake and confirm items into the record
    # (each item also needs the permission of the record it creates).
    "intake.answer": frozenset({Role.PATIENT}),
    "intake.review": CLINICIANS,
    "consent.sign": frozenset({Role.PATIENT}),
    # Re-sending a visit's reminder or a questionnaire link from the chart.
    "reminder.resend": frozenset({Role.FRONT_DESK, Role.PRESCRIBER, Role.NURSE}),
    # Giving a patient a portal login: an emailed one-time set-password link.
    "portal.invite": frozenset({Role.FRONT_DESK, Role.PRESCRIBER, Role.NURSE}),
    # Clinical entries.
    "weight.record": frozenset({Role.PRESCRIBER, Role.NURSE}),
    "diagnosis.record": frozenset({Role.PRESCRIBER}),
    "history.record": CLINICIANS,
    "medication.record": frozenset({Role.PRESCRIBER, Role.NURSE}),
    "allergy.record": frozenset({Role.PRESCRIBER, Role.NURSE}),
    "careteam.edit": frozenset({Role.PRESCRIBER, Role.FRONT_DESK, Role.CLINIC_ADMIN}),
    # Screening, plans and the calculators (issue #3). Front desk sees a plan's proposed
    # course (to book it) but not its doses (minimum necessary).
    "screening.view": CLINICIANS,
    "screening.record": frozenset({Role.PRESCRIBER, Role.NURSE}),
    "screening.sign": frozenset({Role.PRESCRIBER}),
    "plan.view": STAFF | {Role.PATIENT},
    "plan.view_dose": CLINICIANS | {Role.PATIENT},
    "plan.create": frozenset({Role.PRESCRIBER}),
    "plan.sign": frozenset({Role.PRESCRIBER}),
    "plan.amend": frozenset({Role.PRESCRIBER}),
    "clinical.calculate": CLINICIANS | {Role.FRONT_DESK},
    # Treatment floor (issue #5): the live board and the vital-sign evaluator.
    "board.view": CLINICIANS,
    # The vital-sign policy: everyone on the floor may read it; a prescriber signs changes.
    "policy.view": CLINICIANS | {Role.CLINIC_ADMIN},
    "policy.edit": frozenset({Role.PRESCRIBER}),
    "vitals.evaluate": CLINICIANS,
    # Treatment sessions (issue #5): clinicians see them; nurses and prescribers chart and
    # discharge; only a prescriber overrides a checklist item; therapists write integration.
    "session.view": CLINICIANS,
    "session.chart": frozenset({Role.PRESCRIBER, Role.NURSE}),
    "session.override": frozenset({Role.PRESCRIBER}),
    "session.discharge": frozenset({Role.PRESCRIBER, Role.NURSE}),
    "integration_note.write": frozenset({Role.THERAPIST, Role.PRESCRIBER}),
    # Oversight.
    "patient.view_changes": frozenset({Role.PRESCRIBER, Role.CLINIC_ADMIN}),
    "audit.view": frozenset({Role.CLINIC_ADMIN}),
    # The background jobs page (issue #15): schedules, outcomes and errors, no patient data.
    "jobs.view": frozenset({Role.CLINIC_ADMIN}),
    # Every user's API tokens (prefix, dates, last use) and revoking them; anyone sees and
    # revokes their own.
    "token.view_all": frozenset({Role.CLINIC_ADMIN}),
    # Scheduling: the calendar shows every patient's visits, so it is staff-only; a patient
    # sees their own appointments through access_patient.
    "calendar.view": STAFF,
    "appointment.view": STAFF | {Role.PATIENT},
    "appointment.book": frozenset(
        {Role.FRONT_DESK, Role.PRESCRIBER, Role.NURSE, Role.CLINIC_ADMIN}
    ),
    "appointment.status": frozenset({Role.FRONT_DESK, Role.PRESCRIBER, Role.NURSE}),
    # Measurement-based care (issue #6). A patient answers and reads only their own
    # questionnaires (access_patient); the worklist and its safety tasks are for clinicians.
    "outcomes.view": CLINICIANS | {Role.PATIENT},
    "outcomes.enter": CLINICIANS,
    "outcomes.send_link": CLINICIANS | {Role.FRONT_DESK},
    "outcomes.calculate": STAFF,
    "worklist.view": CLINICIANS,
    "safety_task.resolve": CLINICIANS,
    "instrument.manage": frozenset({Role.CLINIC_ADMIN}),
    "dashboard.view": frozenset({Role.CLINIC_ADMIN, Role.PRESCRIBER}),
    # Controlled-substance log (issue #5): clinic admins read it and count the safe; only
    # clinicians who handle the drug draw, give and waste it, and witness a waste or count.
    "inventory.view": frozenset({Role.PRESCRIBER, Role.NURSE, Role.CLINIC_ADMIN}),
    "inventory.record": frozenset({Role.PRESCRIBER, Role.NURSE}),
    "inventory.count": frozenset({Role.PRESCRIBER, Role.NURSE, Role.CLINIC_ADMIN}),
    "inventory.witness": frozenset({Role.PRESCRIBER, Role.NURSE}),
    # Spravato REMS (issue #5): the work list of forms (who, when due) is for the clinic's
    # compliance staff too; the form itself holds vitals and adverse events (clinicians).
    "rems.list": frozenset({Role.PRESCRIBER, Role.NURSE, Role.CLINIC_ADMIN}),
    "rems.view": frozenset({Role.PRESCRIBER, Role.NURSE}),
    "rems.file": frozenset({Role.PRESCRIBER, Role.NURSE}),
    "rems.enrol": frozenset({Role.PRESCRIBER, Role.NURSE}),
    "rems.certify": frozenset({Role.CLINIC_ADMIN}),
    # Coverage and prior authorization (issue #13): the front desk and clinic admins keep
    # the insurance on file and chase authorizations; the packet carries clinical facts
    # (diagnosis, trials, scores), so only the clinicians who assemble it open it.
    "coverage.view": STAFF,
    "coverage.edit": frozenset({Role.FRONT_DESK, Role.CLINIC_ADMIN}),
    "prior_auth.view": STAFF,
    "prior_auth.edit": frozenset({Role.FRONT_DESK, Role.CLINIC_ADMIN, Role.PRESCRIBER}),
    "prior_auth.packet": frozenset({Role.PRESCRIBER, Role.NURSE}),
    # Charges and superbills (issue #13): staff see charges (the front desk bills); the
    # clinicians who chart a session confirm its codes and diagnosis pointers; the front
    # desk and clinic admins take payments and export charges; only a clinic admin prices.
    "charges.calculate": STAFF,
    "charges.view": STAFF,
    "charges.confirm": frozenset({Role.PRESCRIBER, Role.NURSE}),
    "charges.correct": frozenset({Role.PRESCRIBER, Role.NURSE}),
    "charges.visit": CLINICIANS,  # E/M or psychotherapy code of the clinician's own visit
    "charges.export": frozenset({Role.FRONT_DESK, Role.CLINIC_ADMIN}),
    "payment.record": frozenset({Role.FRONT_DESK, Role.CLINIC_ADMIN}),
    "fee_schedule.view": STAFF,
    "fee_schedule.edit": frozenset({Role.CLINIC_ADMIN}),
    # FHIR Bulk Data export (issue #14): the whole clinic (system level) is the clinic
    # admin's to take; a prescriber may export all patients or a cohort Group. An export
    # carries every clinical type (the clinic's data leaving with its owner); the audit
    # trail only with audit.view. Patients are refused (their record is on the portal).
    "fhir.export_system": frozenset({Role.CLINIC_ADMIN}),
    "fhir.export": frozenset({Role.PRESCRIBER, Role.CLINIC_ADMIN}),
    # FHIR import (issue #14): clinicians review and accept items staged from another EHR.
    "fhir.import": CLINICIANS,
}


def can(user: User, permission: str) -> bool:
    """Whether ``user``'s role carries ``permission``. Unknown permissions are a bug."""
    allowed = PERMISSIONS[permission]
    if not user.is_authenticated or not user.is_active:
        return False
    return user.role in allowed


def permissions_of(user: User) -> frozenset[str]:
    return frozenset(name for name in PERMISSIONS if can(user, name))
