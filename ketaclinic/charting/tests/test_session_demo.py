"""The demo clinic has completed sessions for every route, charted through the workflow."""

from __future__ import annotations

from decimal import Decimal

from ketaclinic.charting import administration_service
from ketaclinic.charting.models import (
    AdverseEvent,
    Discharge,
    IntegrationNote,
    SafetyAlert,
    SessionStatus,
    TreatmentSession,
)
from ketaclinic.demo import clinic


def test_the_demo_has_discharged_sessions_for_every_route(db):
    clinic.load()

    sessions = TreatmentSession.objects.filter(status=SessionStatus.DISCHARGED)
    assert {s.route for s in sessions} >= {"iv", "im", "esketamine"}
    for session in sessions.filter(patient__mrn__startswith="DEMO", discharge__isnull=False):
        total = administration_service.session_delivered(session)
        assert total.total_mg > 0, session
        assert total.total_mg <= session.planned_dose_mg + Decimal("0.5"), session
    assert Discharge.objects.filter(session__route="esketamine").exists()
    alerts = SafetyAlert.objects.filter(session__patient__mrn__startswith="DEMO", code="bp_high")
    assert alerts.exists()
    assert all(a.acknowledged_by is not None and a.action_taken for a in alerts)
    assert AdverseEvent.objects.filter(rems_reportable=True).exists()
    assert IntegrationNote.objects.exists()


def test_a_small_demo_has_no_sessions(db):
    clinic.load(patients=6)

    assert not TreatmentSession.objects.exists()
