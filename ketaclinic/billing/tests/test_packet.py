"""The Spravato prior-authorization packet: pure assembly (complete, each item missing) and
the page and PDF read from the record (access, audit, no-store)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from ketaclinic.audit.models import AuditEvent
from ketaclinic.billing import packet
from ketaclinic.charting.models import RemsEnrollment
from ketaclinic.conftest import make_patient, signed_in
from ketaclinic.outcomes.tests.factories import local, make_plan, make_response
from ketaclinic.patients.models import OtherTreatment, WeightMeasurement
from ketaclinic.plans.tests.helpers import with_depression_history

DAY = dt.date(2026, 5, 4)

COMPLETE = packet.PacketRecord(
    patient_name="Ada Alvarez",
    date_of_birth=dt.date(1980, 5, 17),
    mrn="KC1",
    diagnoses=[
        packet.DiagnosisFact(
            "F33.2", "Major depressive disorder, recurrent severe", True, "Dr Rao", DAY
        ),
        packet.DiagnosisFact("F41.1", "Generalized anxiety disorder", False, "Dr Rao", DAY),
    ],
    trials=[
        packet.TrialFact(
            "sertraline", Decimal("150.00"), 8, "no_response", "No response", "Dr Rao", DAY
        ),
        packet.TrialFact(
            "bupropion",
            Decimal("300"),
            10,
            "not_tolerated",
            "Stopped: not tolerated",
            "Dr Rao",
            DAY,
        ),
        packet.TrialFact("venlafaxine", Decimal("225"), 6, "ongoing", "Ongoing", "Dr Rao", DAY),
    ],
    therapies=[
        packet.TherapyFact(
            "psychotherapy",
            "Psychotherapy (individual)",
            "CBT",
            dt.date(2024, 1, 1),
            dt.date(2024, 6, 1),
            "Partial response",
            "Nurse Kim",
            DAY,
        )
    ],
    scores=[
        packet.ScoreFact("phq9", "PHQ-9", 19, "Moderately severe", dt.date(2026, 4, 1), ""),
        packet.ScoreFact("phq9", "PHQ-9", 21, "Severe", dt.date(2026, 5, 1), ""),
        packet.ScoreFact("madrs", "MADRS", 32, "", dt.date(2026, 5, 2), "Dr Rao"),
    ],
    screening=packet.ScreeningFact(
        True, "Eligible", ("No uncontrolled hypertension",), "Dr Rao", DAY
    ),
    height_cm=Decimal("170.0"),
    weight=packet.WeightFact(Decimal("72.5"), DAY, "Nurse Kim"),
    rems=packet.RemsFact("REMS-123", DAY, "Nurse Kim"),
)


def item(assembled: packet.Packet, key: str) -> packet.PacketItem:
    return next(i for i in assembled.items if i.key == key)


def test_a_complete_record_makes_a_complete_packet_with_every_source_shown():
    assembled = packet.assemble(COMPLETE)
    assert assembled.complete
    assert [i.key for i in assembled.items] == [
        "diagnosis",
        "trials",
        "psychotherapy",
        "score",
        "screening",
        "height",
        "weight",
        "rems",
    ]
    [diagnosis] = item(assembled, "diagnosis").lines
    assert diagnosis.value.startswith("F33.2 Major depressive disorder")
    assert diagnosis.source == "from the chart: diagnosis entered by Dr Rao on 2026-05-04"
    trials = item(assembled, "trials").lines
    assert [t.value for t in trials] == [
        "sertraline 150 mg/day for 8 weeks: No response",
        "bupropion 300 mg/day for 10 weeks: Stopped: not tolerated",
    ]
    scores = [line.value for line in item(assembled, "score").lines]
    assert scores == ["PHQ-9: 21 (Severe) on 2026-05-01", "MADRS: 32 on 2026-05-02"]
    [screening] = item(assembled, "screening").lines
    assert screening.source == "from the screening: signed by Dr Rao on 2026-05-04"
    assert item(assembled, "height").lines[0].value == "170 cm"
    assert "REMS-123" in item(assembled, "rems").lines[0].value


MISSING = {
    "diagnosis": {"diagnoses": [COMPLETE.diagnoses[1]]},
    "trials": {"trials": [COMPLETE.trials[0], COMPLETE.trials[2]]},
    "psychotherapy": {"therapies": []},
    "score": {"scores": []},
    "screening": {"screening": None},
    "height": {"height_cm": None},
    "weight": {"weight": None},
    "rems": {"rems": None},
}


@pytest.mark.parametrize("key", list(MISSING))
def test_each_missing_item_is_listed_and_the_packet_is_incomplete(key):
    assembled = packet.assemble(dataclasses.replace(COMPLETE, **MISSING[key]))
    assert not assembled.complete
    assert [i.key for i in assembled.missing] == [key]
    assert item(assembled, key).missing


def test_one_failed_trial_is_not_enough_and_says_how_many_are_needed():
    assembled = packet.assemble(dataclasses.replace(COMPLETE, **MISSING["trials"]))
    assert item(assembled, "trials").missing.startswith("1 failed antidepressant trial(s)")
    assert len(item(assembled, "trials").lines) == 1  # the one there is still shown


def test_a_screening_that_did_not_find_the_patient_eligible_leaves_the_check_missing():
    refused = dataclasses.replace(COMPLETE.screening, eligible=False, decision_label="Not eligible")
    assembled = packet.assemble(dataclasses.replace(COMPLETE, screening=refused))
    assert [i.key for i in assembled.missing] == ["screening"]


# --- the pages -----------------------------------------------------------------------------


@pytest.fixture
def esketamine_plan(db, prescriber, nurse):
    patient = make_patient("Esme", "Packet", height_cm=Decimal("168.0"))
    with_depression_history(patient, prescriber, trials=2)
    return make_plan(patient, prescriber, start=DAY, route="esketamine", status="active")


def complete_the_record(plan, prescriber, nurse):
    patient = plan.patient
    OtherTreatment.objects.create(
        patient=patient,
        kind="psychotherapy",
        description="CBT",
        outcome="partial_response",
        recorded_by=nurse,
    )
    WeightMeasurement.objects.create(
        patient=patient, weight_kg=Decimal("70.0"), measured_on=DAY, recorded_by=nurse
    )
    make_response(patient, "phq9", total=20, at=local(DAY), by=nurse)
    RemsEnrollment.objects.create(
        patient=patient, rems_patient_id="REMS-77", enrolled_on=DAY, recorded_by=nurse
    )


def url(plan, suffix="packet/"):
    return f"/billing/patients/{plan.patient_id}/plans/{plan.pk}/{suffix}"


def test_the_packet_page_lists_what_the_record_lacks(esketamine_plan, prescriber):
    page = signed_in(prescriber).get(url(esketamine_plan))
    text = page.content.decode()
    assert page.status_code == 200
    assert "Incomplete" in text
    assert "No psychotherapy on the chart." in text
    assert "The patient is not enrolled in the REMS." in text
    assert "antidepressant 1 100 mg/day for 8 weeks: No response" in text


def test_the_packet_is_complete_once_the_record_is_and_the_read_is_audited(
    esketamine_plan, prescriber, nurse
):
    complete_the_record(esketamine_plan, prescriber, nurse)
    page = signed_in(nurse).get(url(esketamine_plan))
    assert 'id="packet-status">Complete' in page.content.decode()
    event = AuditEvent.objects.filter(action="prior_auth.packet").latest("id")
    assert event.patient_id == esketamine_plan.patient_id
    assert event.detail["complete"] is True


def test_the_pdf_carries_the_values_and_their_sources_and_is_not_cached(
    esketamine_plan, prescriber, nurse
):
    complete_the_record(esketamine_plan, prescriber, nurse)
    response = signed_in(prescriber).get(url(esketamine_plan, "packet.pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    content = response.content
    assert content.startswith(b"%PDF")
    assert b"COMPLETE" in content
    assert b"REMS-77" in content
    assert b"from the chart: diagnosis entered by" in content
    assert AuditEvent.objects.filter(action="prior_auth.packet", detail__form="pdf").exists()


def test_an_outsider_and_another_patient_get_404(esketamine_plan, outsider, patient_b):
    for user in (outsider, patient_b.user):
        assert signed_in(user).get(url(esketamine_plan)).status_code == 404
        assert signed_in(user).get(url(esketamine_plan, "packet.pdf")).status_code == 404


@pytest.mark.parametrize("who", ["front_desk", "therapist", "clinic_admin"])
def test_roles_without_the_packet_permission_are_refused(esketamine_plan, cast, who):
    assert signed_in(cast[who]).get(url(esketamine_plan)).status_code == 403


def test_an_iv_plan_has_no_packet(db, prescriber):
    plan = make_plan(make_patient("Ivy", "Drip"), prescriber, start=DAY, route="iv")
    assert signed_in(prescriber).get(url(plan)).status_code == 404
