"""Opening a session takes the dose in effect for that session, amendments included."""

from __future__ import annotations

from decimal import Decimal

from ketaclinic.charting import session_service
from ketaclinic.plans.services import plan_amend_dose

from .session_makers import checked_in_visit, plan_for, request_by


def test_an_amended_dose_sets_both_the_planned_dose_and_its_rate(patient_a, prescriber, nurse):
    plan = plan_for(patient_a, prescriber, "iv")
    assert plan.dose_mg == Decimal("35.0")
    plan_amend_dose(
        request=request_by(prescriber),
        plan=plan,
        reason="partial response",
        dose_mg_per_kg=Decimal("0.6"),
        from_session=2,
    )
    visit = checked_in_visit(patient_a, nurse, "iv")
    visit.course_number = 2
    visit.save(update_fields=["course_number"])
    session = session_service.session_open(request=request_by(nurse), appointment=visit)
    assert session.session_number == 2
    assert session.planned_dose_mg == Decimal("42.0")
    assert session.planned_rate_mg_per_min == Decimal("1.05"), "42 mg over 40 min"
