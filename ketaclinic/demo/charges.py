"""Demo charges: demo prices, charge lines for every discharged demo-clinic session, most of
them confirmed, superbills therefore available, and a few self-pay payments.

The prices are DEMO PRICES, round numbers chosen for the demo and named so on the fee
schedule: the software ships no real prices (clinic policy, REFERENCE.md 8.1 [U]). The NPI
given to the demo prescribers is the standard test example, not a real provider's.
Idempotent: prices are set once, lines are made once per session, a session with confirmed
lines is left alone, and a patient who already has a payment gets no other.
"""

from __future__ import annotations

from decimal import Decimal

from ketaclinic.accounts.models import User
from ketaclinic.billing import charges, fee_schedule, payments
from ketaclinic.billing.models import ChargeLine, ChargeStatus, Payment, ProviderProfile
from ketaclinic.charting import session_service
from ketaclinic.charting.models import SessionStatus, TreatmentSession
from ketaclinic.demo.plans import DemoRequest

CLINIC_MRN_PREFIX = "DEMO"
DEMO_NOTE = "DEMO PRICES for the demo clinic only; not real fees. The clinic sets its own."
DEMO_PRICES = {
    "G2082": "400.00",
    "G2083": "500.00",
    "S0013": "10.00",
    "96365": "300.00",
    "96366": "100.00",
    "96372": "150.00",
    "J3490": "50.00",
    "99204": "250.00",
    "99214": "150.00",
    "90834": "120.00",
}
PAYING_PATIENTS = 3
DEMO_NPI = "1234567893"  # the CMS documentation's example NPI


def load(users: dict[str, User]) -> dict[str, int]:
    ensure_prices(users["admin"])
    ensure_npis(users)
    sessions = list(discharged_sessions())
    made = sum(charges.charges_ensure(session) for session in sessions)
    confirmed = ensure_confirmed(sessions)
    paid = ensure_payments(users["frontdesk"], sessions)
    return {"sessions_charged": made, "sessions_confirmed": confirmed, "payments": paid}


def ensure_prices(admin: User) -> None:
    if fee_schedule.current().note == DEMO_NOTE:
        return
    fee_schedule.fee_schedule_change(
        request=DemoRequest(admin), by=admin, amounts=DEMO_PRICES, note=DEMO_NOTE
    )


def ensure_npis(users: dict[str, User]) -> None:
    for key in ("prescriber", "prescriber2"):
        ProviderProfile.objects.get_or_create(user=users[key], defaults={"npi": DEMO_NPI})


def discharged_sessions():
    return (
        TreatmentSession.objects.filter(
            status=SessionStatus.DISCHARGED, patient__mrn__startswith=CLINIC_MRN_PREFIX
        )
        .select_related("patient", "plan__signed_by", "prescriber_on_site")
        .order_by("patient_id", "discharged_at", "id")
    )


def ensure_confirmed(sessions: list[TreatmentSession]) -> int:
    """Every session but each patient's latest is confirmed (the latest awaits review)."""
    latest = {}
    for session in sessions:
        latest[session.patient_id] = session.pk
    confirmed = 0
    for session in sessions:
        if session.pk == latest[session.patient_id]:
            continue
        pending = ChargeLine.objects.filter(session=session, status=ChargeStatus.PROPOSED)
        if not pending.exists() or not pending.exclude(diagnoses=[]).exists():
            continue
        clinician = charges.rendering_provider(session)
        charges.charges_confirm(request=DemoRequest(clinician), session=session, by=clinician)
        confirmed += 1
    return confirmed


def ensure_payments(desk: User, sessions: list[TreatmentSession]) -> int:
    """The first confirmed session of a few patients is paid in full on its day."""
    paid = 0
    seen: set[int] = set()
    for session in sessions:
        if session.patient_id in seen:
            continue
        lines = ChargeLine.objects.filter(session=session, status=ChargeStatus.CONFIRMED)
        amount = sum(lines.values_list("amount", flat=True), Decimal("0.00"))
        if amount <= 0:
            continue
        seen.add(session.patient_id)
        if len(seen) > PAYING_PATIENTS:
            break
        if Payment.objects.filter(patient_id=session.patient_id).exists():
            continue
        payments.payment_record(
            request=DemoRequest(desk),
            patient=session.patient,
            by=desk,
            amount=amount,
            method="card",
            received_on=session_service.session_day(session),
            reference="demo",
        )
        paid += 1
    return paid
