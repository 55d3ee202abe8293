"""A fresh `manage.py demo` obeys every rule the product enforces (built once per class)."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from collections import defaultdict
from decimal import Decimal

from django.core.management import call_command
from django.test import TestCase
from django.utils import timezone

from ketaclinic.analytics.cohort import build_cohort
from ketaclinic.analytics.summary import summarise
from ketaclinic.charting import administration_service
from ketaclinic.charting.models import SessionStatus, TreatmentSession
from ketaclinic.inventory import services as inventory
from ketaclinic.inventory.models import EntryKind, LedgerEntry, Lot
from ketaclinic.patients.duplicates import Identity
from ketaclinic.patients.models import Patient
from ketaclinic.plans.models import PlanStatus, TreatmentPlan
from ketaclinic.scheduling import services as scheduling
from ketaclinic.scheduling.models import HOLDING, Appointment


class BuiltOnce(TestCase):
    """`manage.py demo` with its default arguments, once for the whole class."""

    @classmethod
    def setUpTestData(cls):
        call_command("demo", "--quiet-logins", stdout=io.StringIO())


def listed(offenders) -> str:
    return "\n  " + "\n  ".join(str(o) for o in offenders[:20])


def demo_sessions():
    """Every session given: the detailed clinic's, charted, and the cohort's, in bulk."""
    return TreatmentSession.objects.filter(status=SessionStatus.DISCHARGED).prefetch_related(
        "infusion_events", "boluses", "devices", "controlled_substance_entries"
    )


class TestTheDemoIsConsistent(BuiltOnce):
    def test_no_patient_is_in_two_visits_at_once(self):
        visits = defaultdict(list)
        for visit in Appointment.objects.filter(status__in=HOLDING).order_by("starts_at"):
            visits[visit.patient_id].append(visit)
        overlaps = [
            f"patient {a.patient_id}: visit {a.pk} {a.starts_at:%Y-%m-%d %H:%M}-{a.ends_at:%H:%M} "
            f"and visit {b.pk} from {b.starts_at:%H:%M}"
            for own in visits.values()
            for a, b in itertools.pairwise(own)
            if b.starts_at < a.ends_at
        ]
        assert not overlaps, "overlapping visits of one patient:" + listed(overlaps)

    def test_every_dosing_visit_comes_from_a_signed_plan_of_its_route(self):
        offenders = []
        dosing = Appointment.objects.exclude(type__protocol_code="").select_related(
            "type", "patient"
        )
        assert dosing.count() > 50, "a busy clinic books many dosing visits"
        for visit in dosing:
            route = scheduling.route_of(visit.type)
            plans = visit.patient.plans.filter(
                route=route,
                status__in=[PlanStatus.ACTIVE, PlanStatus.COMPLETED],
                signed_at__lte=visit.created_at,
            )
            fits = [
                plan for plan in plans if plan.ended_at is None or visit.starts_at <= plan.ended_at
            ]
            if not fits:
                offenders.append(
                    f"{visit.patient.mrn} {visit.type.code} visit {visit.pk} on "
                    f"{visit.starts_at:%Y-%m-%d}, booked {visit.created_at:%Y-%m-%d %H:%M}"
                )
        assert not offenders, "dosing visits without a signed plan behind them:" + listed(offenders)

    def test_courses_are_the_plans_planned_sessions_booked_after_signing(self):
        offenders = []
        for plan in TreatmentPlan.objects.filter(patient__mrn__startswith="DEMO").exclude(
            status=PlanStatus.DRAFT
        ):
            planned = dict(plan.planned_sessions.values_list("number", "date"))
            course = Appointment.objects.filter(course_key=scheduling.plan_course_key(plan))
            for visit in course:
                if visit.created_at < plan.signed_at:
                    offenders.append(f"plan {plan.pk} visit {visit.pk} booked before signing")
                if visit.created_at > visit.starts_at:
                    offenders.append(f"plan {plan.pk} visit {visit.pk} booked into the past")
                moved = visit.events.filter(kind="moved").exists()
                if not moved and planned.get(visit.course_number) != visit.local_start.date():
                    offenders.append(f"plan {plan.pk} visit {visit.course_number} off the plan")
        assert not offenders, listed(offenders)

    def test_no_visit_long_over_is_left_open(self):
        """A visit that ended hours ago happened, was missed or was cancelled."""
        hours_ago = timezone.now() - dt.timedelta(hours=3)
        still_open = Appointment.objects.filter(
            ends_at__lt=hours_ago,
            status__in=["scheduled", "confirmed", "checked_in", "in_session"],
        )
        assert not still_open.exists(), "past visits never played out:" + listed(list(still_open))

    def test_every_past_dosing_visit_has_its_discharged_session(self):
        done = Appointment.objects.exclude(type__protocol_code="").filter(status="completed")
        missing = [v for v in done if not TreatmentSession.objects.filter(appointment=v).exists()]
        assert done.exists()
        assert not missing, "completed dosing visits without a session:" + listed(missing)

    def test_every_demo_session_names_a_received_lot_and_draws_its_dose_from_it(self):
        offenders = []
        sessions = list(demo_sessions())
        assert len(sessions) >= 1000
        for session in sessions:
            lot = Lot.objects.filter(lot_number=session.lot_number, product=session.product).first()
            if lot is None:
                offenders.append(f"session {session.pk}: lot {session.lot_number!r} not in stock")
                continue
            entries = list(session.controlled_substance_entries.all())
            draws = [e for e in entries if e.kind == EntryKind.DRAW]
            if not draws or any(d.lot_id != lot.pk for d in draws):
                offenders.append(f"session {session.pk}: no draw from lot {lot.lot_number}")
            if lot.received_at > session.opened_at:
                offenders.append(f"session {session.pk}: lot {lot.lot_number} received after use")
            delivered = administration_service.session_delivered(session).total_mg.quantize(
                Decimal("0.01")
            )
            administered = sum(
                (e.quantity_mg for e in entries if e.kind == EntryKind.ADMINISTER), Decimal(0)
            )
            if delivered <= 0 or administered != delivered:
                offenders.append(
                    f"session {session.pk}: chart delivered {delivered} mg, log {administered} mg"
                )
            for draw in draws:
                used = sum((e.quantity_mg for e in entries if e.draw_id == draw.pk), Decimal(0))
                if used != draw.quantity_mg:
                    offenders.append(f"session {session.pk}: draw {draw.pk} not accounted for")
            for waste in (e for e in entries if e.kind == EntryKind.WASTE):
                if waste.witness_id is None or waste.witness_id == waste.by_id:
                    offenders.append(f"session {session.pk}: waste {waste.pk} not witnessed")
        assert not offenders, "sessions whose dose is not drawn from stock:" + listed(offenders)

    def test_every_demo_lot_reconciles(self):
        lots = list(Lot.objects.all())
        assert {lot.drug for lot in lots} == {"racemic ketamine", "esketamine"}
        offenders = []
        for lot in lots:
            state = inventory.lot_state(lot)  # replays every entry through the ledger
            balance = state.lot(lot.lot_number)
            if not LedgerEntry.objects.filter(lot=lot, kind=EntryKind.RECEIVE).exists():
                offenders.append(f"{lot.lot_number}: no receipt")
            if balance.received_mg != (
                balance.on_hand_mg + balance.drawn_mg + balance.wasted_from_stock_mg
            ):
                offenders.append(f"{lot.lot_number}: received != on hand + drawn + wasted")
            count = LedgerEntry.objects.counts().filter(lot=lot).last()
            counted_today = lot.lot_number.startswith("DEMO-")
            if (counted_today and count is None) or (count and count.discrepancy_mg != 0):
                offenders.append(f"{lot.lot_number}: count missing or off ({count})")
            if any(d.outstanding_mg for d in state.draws.values()):
                offenders.append(f"{lot.lot_number}: a draw is still outstanding")
        assert not offenders, "lots that do not reconcile:" + listed(offenders)

    def test_the_outcome_cohort_is_large_enough_for_the_dashboard(self):
        courses = TreatmentPlan.objects.filter(signed_at__isnull=False).exclude(
            status=PlanStatus.DRAFT
        )
        assert courses.count() >= 150
        assert len(set(courses.values_list("indication", flat=True))) >= 5
        assert len(set(courses.values_list("route", flat=True))) >= 4
        result = summarise(build_cohort())
        assert result.response.n >= 100
        assert 0.3 < result.response.successes / result.response.n < 0.75
        assert result.km is not None
        assert result.km_n > 50

    def test_no_two_demo_patients_are_the_same_person(self):
        seen: dict[tuple, str] = {}
        duplicates = []
        for mrn, given, family, born in Patient.objects.values_list(
            "mrn", "given_name", "family_name", "date_of_birth"
        ):
            key = Identity(given, family, born).key
            if key in seen:
                duplicates.append(f"{mrn} and {seen[key]}: {given} {family} {born}")
            seen.setdefault(key, mrn)
        assert not duplicates, "patients recorded twice:" + listed(duplicates)
