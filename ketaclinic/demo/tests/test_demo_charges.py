"""The demo clinic bills what it charted: every discharged session has charge lines at demo
prices, most confirmed, a few payments, and each session's superbill opens."""

from __future__ import annotations

from ketaclinic.accounts.models import User
from ketaclinic.billing import fee_schedule
from ketaclinic.billing.models import ChargeLine, ChargeStatus, Payment
from ketaclinic.charting.models import SessionStatus, TreatmentSession
from ketaclinic.conftest import signed_in
from ketaclinic.demo import charges as demo_charges
from ketaclinic.demo import clinic


def test_discharged_demo_sessions_are_billed_some_confirmed_some_paid(db):
    clinic.load()
    sessions = TreatmentSession.objects.filter(
        status=SessionStatus.DISCHARGED, patient__mrn__startswith="DEMO"
    )

    assert sessions.exists()
    for session in sessions:
        assert session.charge_lines.exists(), session
    assert ChargeLine.objects.filter(status=ChargeStatus.CONFIRMED).exists()
    assert ChargeLine.objects.filter(status=ChargeStatus.PROPOSED).exists()
    assert Payment.objects.count() == demo_charges.PAYING_PATIENTS
    assert fee_schedule.current().note == demo_charges.DEMO_NOTE
    confirmed = ChargeLine.objects.filter(status=ChargeStatus.CONFIRMED).first()
    desk = User.objects.get(username="frontdesk")
    page = signed_in(desk).get(f"/billing/sessions/{confirmed.session_id}/superbill/")
    assert page.status_code == 200
    assert confirmed.code in page.content.decode()
