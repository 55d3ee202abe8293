"""Pages of the log: who may see and write what, what they show, what they cost."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from ketaclinic.accounts.permissions import PERMISSIONS
from ketaclinic.accounts.roles import Role
from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.conftest import signed_in
from ketaclinic.inventory import services
from ketaclinic.inventory.models import EntryKind, LedgerEntry, Lot

from .helpers import chart_infusion, plan_for, receive, request_by, session_on

LOTS_PAGE_QUERIES = 10
LOT_PAGE_QUERIES = 9


@pytest.fixture
def session(patient_a, prescriber, nurse):
    session = session_on(plan_for(patient_a, prescriber), nurse)
    chart_infusion(session, rate="0.9", minutes=40)
    return session


@pytest.fixture
def drawn(session, nurse):
    lot = receive(nurse, vials=2, lot_number="KX-1").lot
    return services.draw_record(
        request=request_by(nurse), session=session, lot=lot, quantity_mg=Decimal(50)
    )


def test_the_permissions_are_the_ones_the_issue_asks_for():
    assert PERMISSIONS["inventory.view"] == {Role.PRESCRIBER, Role.NURSE, Role.CLINIC_ADMIN}
    assert PERMISSIONS["inventory.record"] == {Role.PRESCRIBER, Role.NURSE}
    assert PERMISSIONS["inventory.count"] == {Role.PRESCRIBER, Role.NURSE, Role.CLINIC_ADMIN}


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("prescriber", 200),
        ("nurse", 200),
        ("clinic_admin", 200),
        ("therapist", 403),
        ("front_desk", 403),
        ("patient_a", 404),
        ("outsider", 404),
    ],
)
def test_the_lots_page_is_for_the_roles_that_handle_the_drug(cast, drawn, who, status):
    response = signed_in(cast[who]).get("/inventory/")
    assert response.status_code == status
    if status == 200:
        assert "KX-1" in response.content.decode()


def test_anonymous_callers_are_sent_to_sign_in(db):
    from django.test import Client

    response = Client().get("/inventory/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_lots_page_shows_the_balance_in_the_safe_and_what_is_drawn(prescriber, drawn):
    page = signed_in(prescriber).get("/inventory/").content.decode()
    assert "950 mg" in page
    assert "50 mg" in page


def test_the_lot_page_shows_the_running_balance(prescriber, nurse, drawn):
    services.waste_record(
        request=request_by(nurse), draw=drawn, quantity_mg=Decimal(14), witness=prescriber
    )
    response = signed_in(nurse).get(f"/inventory/lots/{drawn.lot_id}/")

    lines = response.context["lines"]
    assert [(line.entry.kind, line.on_hand_mg) for line in lines] == [
        (EntryKind.RECEIVE, 1000),
        (EntryKind.DRAW, 950),
        (EntryKind.WASTE, 950),
    ]
    assert [line.outstanding_mg for line in lines] == [0, 50, 36]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("nurse", 200),
        ("clinic_admin", 200),
        ("therapist", 403),
        ("front_desk", 403),
        ("patient_a", 403),  # their own session: a staff page they may not use
        ("patient_b", 404),  # another patient's session does not exist for them
        ("outsider", 404),
    ],
)
def test_a_sessions_log_follows_the_patient_record_rules(cast, drawn, who, status):
    response = signed_in(cast[who]).get(f"/inventory/sessions/{drawn.session_id}/")
    assert response.status_code == status


def test_a_missing_session_is_not_found(nurse, db):
    assert signed_in(nurse).get("/inventory/sessions/999999/").status_code == 404


def test_the_session_page_compares_the_chart_with_the_log(nurse, drawn):
    response = signed_in(nurse).get(f"/inventory/sessions/{drawn.session_id}/")
    log = response.context["log"]
    assert (log.delivered_mg, log.administered_mg) == (36, 0)
    assert "36 mg delivered that is not yet logged" in response.content.decode()


def test_a_nurse_records_a_receipt_through_the_page(nurse):
    response = signed_in(nurse).post(
        "/inventory/receive/",
        {
            "drug": "racemic ketamine",
            "product": "Ketamine HCl 50 mg/mL, 10 mL",
            "supplier": "Henry Schein",
            "lot_number": "NEW-9",
            "mg_per_vial": "500",
            "ml_per_vial": "10",
            "vials": "5",
            "expires_on": (timezone.localdate().replace(year=timezone.localdate().year + 1)),
        },
    )

    lot = Lot.objects.get(lot_number="NEW-9")
    assert response.status_code == 302
    assert response["Location"] == f"/inventory/lots/{lot.pk}/"
    assert LedgerEntry.objects.get(lot=lot).quantity_mg == 2500
    assert AuditEvent.objects.filter(action="inventory.receive", actor=nurse).exists()


def test_a_clinic_admin_may_count_but_not_receive(clinic_admin):
    response = signed_in(clinic_admin).post("/inventory/receive/", {"vials": "5"})
    assert response.status_code == 403
    assert not Lot.objects.exists()


def test_an_invalid_receipt_answers_422_and_is_audited(nurse):
    response = signed_in(nurse).post("/inventory/receive/", {"vials": "0"})
    assert response.status_code == 422
    event = AuditEvent.objects.filter(action="inventory.receive").get()
    assert event.outcome == Outcome.INVALID


def test_drawing_beyond_the_balance_through_the_page_is_refused_with_the_reason(nurse, session):
    lot = receive(nurse, vials=1).lot
    response = signed_in(nurse).post(
        f"/inventory/sessions/{session.pk}/draw/", {"lot": lot.pk, "quantity_mg": "600"}
    )
    assert response.status_code == 422
    assert "would leave it negative" in response.content.decode()
    assert not LedgerEntry.objects.filter(kind=EntryKind.DRAW).exists()


def test_the_administer_page_logs_what_the_chart_delivered(nurse, drawn):
    response = signed_in(nurse).post(
        f"/inventory/sessions/{drawn.session_id}/administer/", {"draw": drawn.pk}
    )
    assert response.status_code == 302
    entry = LedgerEntry.objects.get(kind=EntryKind.ADMINISTER)
    assert (entry.quantity_mg, entry.draw, entry.session_id) == (36, drawn, drawn.session_id)


def test_the_lots_page_costs_a_pinned_number_of_queries(
    nurse, prescriber, patient_a, django_assert_max_num_queries
):
    session = session_on(plan_for(patient_a, prescriber), nurse)
    for number in range(6):
        lot = receive(nurse, vials=3).lot
        services.draw_record(request=request_by(nurse), session=session, lot=lot, quantity_mg=10)
        services.count_record(
            request=request_by(nurse), lot=lot, full_vials=2, partial_ml=number, witness=prescriber
        )
    client = signed_in(nurse)
    client.get("/")
    with django_assert_max_num_queries(LOTS_PAGE_QUERIES):
        assert client.get("/inventory/").status_code == 200
    with django_assert_max_num_queries(LOT_PAGE_QUERIES):
        assert client.get(f"/inventory/lots/{lot.pk}/").status_code == 200
