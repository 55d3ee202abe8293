"""The clinic's vital-sign policy: a prescriber signs a change with a reason; it is a new
version (never an edit), audited, in force for the next readings, and every alert it affects
names it next to the shipped default. Bad values are refused by name; a stale form is 409."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.charting import policy
from ketaclinic.charting.models import VitalSignPolicyVersion
from ketaclinic.charting.tests.floor import (
    make_chairs,
    make_session,
    monitor_in,
    post_vitals,
    reading,
)
from ketaclinic.conftest import signed_in

URL = "/policy/vitals/"


def form(based_on: int = 0, reason: str = "Cardiology review 2026", **changes) -> dict:
    values = {key: str(value) for key, value in policy.DEFAULT_VALUES.items()}
    values.update({key.replace("__", "."): str(v) for key, v in changes.items()})
    return values | {"reason": reason, "based_on": str(based_on)}


def test_the_shipped_defaults_are_in_force_until_a_version_is_signed(db, nurse):
    response = signed_in(nurse).get(URL)

    assert response.status_code == 200
    body = response.content.decode()
    assert "the shipped defaults" in body
    assert policy.in_force() is policy.safety.DEFAULT_POLICY
    assert 'name="reason"' not in body  # a nurse reads it; only a prescriber signs
    assert AuditEvent.objects.filter(action="access.refused").count() == 0


def test_a_prescriber_signs_a_lower_bp_threshold_and_alerts_follow_it(prescriber, nurse, patient_a):
    (chair,) = make_chairs(1)
    session = make_session(patient=patient_a, prescriber=prescriber, nurse=nurse, chair=chair)
    _, token = monitor_in(chair)

    response = signed_in(prescriber).post(URL, form(bp_high__systolic_mmhg=170))

    assert response.status_code == 302
    version = VitalSignPolicyVersion.objects.get()
    assert (version.number, version.signed_by, version.values["bp_high.systolic_mmhg"]) == (
        1,
        prescriber,
        "170",
    )
    event = AuditEvent.objects.get(action="policy.vitals_changed")
    assert event.detail["changes"] == {"bp_high.systolic_mmhg": ["180", "170"]}
    assert event.detail["reason"] == "Cardiology review 2026"
    answer = post_vitals(
        session.pk, token, reading(1, systolic_mmhg=172, diastolic_mmhg=90), key="b1"
    ).json()
    (alert,) = answer["alerts"]
    assert alert["code"] == "bp_high"
    assert alert["basis"].startswith("Clinic policy v1, signed by")
    assert "Cardiology review 2026 (shipped default systolic blood pressure 180)" in alert["basis"]
    assert "Default clinic policy (no guideline fixes it), editable" in alert["basis"]
    page = signed_in(nurse).get(URL).content.decode()
    assert "clinic policy v1" in page


def test_a_rule_left_as_shipped_keeps_its_shipped_basis(prescriber):
    signed_in(prescriber).post(URL, form(bp_high__systolic_mmhg=170))

    in_force = policy.in_force()

    assert (
        in_force.rule("bp_critical").basis == policy.safety.DEFAULT_POLICY.rule("bp_critical").basis
    )
    assert in_force.rule("bp_high").when_any[0].value == Decimal(170)


def test_the_evaluator_api_uses_the_policy_in_force(prescriber, nurse):
    signed_in(prescriber).post(URL, form(bp_high__systolic_mmhg=170))
    body = {"readings": [{"minute": 0, "systolic_mmhg": 175, "diastolic_mmhg": 90}]}

    answer = signed_in(nurse).post(
        "/api/v1/safety/evaluate-vitals", body, content_type="application/json"
    )

    assert [a["code"] for a in answer.json()["alerts"]] == ["bp_high"]


@pytest.mark.parametrize(
    ("changes", "key", "words"),
    [
        ({"bp_high__systolic_mmhg": "400"}, "bp_high.systolic_mmhg", "at most"),
        ({"bp_high__systolic_mmhg": "abc"}, "bp_high.systolic_mmhg", "enter a number"),
        ({"bp_high__systolic_mmhg": "NaN"}, "bp_high.systolic_mmhg", "must be above"),
        ({"bp_high_sustained__for_minutes": "0"}, "bp_high_sustained.for_minutes", "above 0"),
    ],
)
def test_implausible_values_are_refused_by_name_and_nothing_is_signed(
    prescriber, changes, key, words
):
    response = signed_in(prescriber).post(URL, form(**changes))

    assert response.status_code == 422
    assert key in response.content.decode()
    assert words in response.content.decode()
    assert not VitalSignPolicyVersion.objects.exists()
    assert AuditEvent.objects.get(action="policy.vitals_changed").outcome == Outcome.INVALID


def test_a_reason_and_a_change_are_required(prescriber):
    client = signed_in(prescriber)

    no_reason = client.post(URL, form(reason="  ", bp_high__systolic_mmhg=170))
    no_change = client.post(URL, form())

    assert no_reason.status_code == no_change.status_code == 422
    assert "Say why" in no_reason.content.decode()
    assert "No threshold differs" in no_change.content.decode()
    assert not VitalSignPolicyVersion.objects.exists()


def test_a_form_opened_before_another_signature_is_refused_with_409(prescriber):
    client = signed_in(prescriber)
    client.post(URL, form(bp_high__systolic_mmhg=170))

    stale = client.post(URL, form(based_on=0, bp_high__systolic_mmhg=175))
    fresh = client.post(URL, form(based_on=1, bp_high__systolic_mmhg=175, reason="Recheck"))

    assert stale.status_code == 409
    assert "now version 1" in stale.content.decode()
    assert fresh.status_code == 302
    assert list(VitalSignPolicyVersion.objects.values_list("number", flat=True)) == [2, 1]
    assert policy.in_force().rule("bp_high").when_any[0].value == Decimal(175)


def test_only_a_prescriber_signs_and_patients_cannot_see_it(
    nurse, clinic_admin, front_desk, patient_a
):
    assert signed_in(nurse).post(URL, form(bp_high__systolic_mmhg=170)).status_code == 403
    assert signed_in(clinic_admin).get(URL).status_code == 200
    assert signed_in(front_desk).get(URL).status_code == 403
    assert signed_in(patient_a.user).get(URL).status_code == 403
    assert not VitalSignPolicyVersion.objects.exists()


def test_the_policy_page_reads_in_words_with_the_advice_for_each_phase(db, nurse):
    body = signed_in(nurse).get(URL).content.decode()

    assert "Blood pressure very high" in body
    assert "Systolic blood pressure ≥" in body
    assert "In observation:</span> notify the prescriber now" in body
    assert "<code>bp_high</code>" not in body
    assert "REFERENCE.md" not in body
