"""Coverage on the patient record: rules, history kept, API, chart tab, audit."""

from __future__ import annotations

import datetime as dt

import pytest

from ketaclinic.audit.models import AuditEvent
from ketaclinic.billing.coverage import CoverageInput, coverage_problems, in_force
from ketaclinic.billing.models import Coverage
from ketaclinic.conftest import signed_in

INSURED = {
    "payer_name": "Aetna",
    "member_id": "W123456789",
    "group_number": "G-77",
    "subscriber_relationship": "self",
    "network": "in",
    "effective_from": "2026-01-01",
}


def entry(**changes) -> CoverageInput:
    values = {
        "self_pay": False,
        "payer_name": "Aetna",
        "member_id": "W1",
        "group_number": "",
        "subscriber_relationship": "self",
        "network": "in",
        "effective_from": dt.date(2026, 1, 1),
        "effective_to": None,
    } | changes
    return CoverageInput(**values)


def test_an_insured_coverage_with_payer_member_and_holder_has_no_problems():
    assert coverage_problems(entry()) == {}


def test_a_coverage_ending_before_it_starts_is_refused_naming_the_end_date():
    problems = coverage_problems(entry(effective_to=dt.date(2025, 12, 31)))
    assert set(problems) == {"effective_to"}


def test_a_coverage_ending_the_day_it_starts_is_allowed():
    assert coverage_problems(entry(effective_to=dt.date(2026, 1, 1))) == {}


def test_an_insured_coverage_needs_payer_member_id_and_holder():
    problems = coverage_problems(entry(payer_name=" ", member_id="", subscriber_relationship=""))
    assert set(problems) == {"payer_name", "member_id", "subscriber_relationship"}


def test_self_pay_carries_no_insurer_details():
    assert (
        coverage_problems(
            entry(self_pay=True, payer_name="", member_id="", subscriber_relationship="")
        )
        == {}
    )
    assert set(coverage_problems(entry(self_pay=True))) == {
        "payer_name",
        "member_id",
        "subscriber_relationship",
    }


def test_in_force_includes_both_ends():
    assert in_force(dt.date(2026, 1, 1), dt.date(2026, 1, 31), dt.date(2026, 1, 31))
    assert not in_force(dt.date(2026, 1, 1), dt.date(2026, 1, 31), dt.date(2026, 2, 1))
    assert in_force(dt.date(2026, 1, 1), None, dt.date(2099, 1, 1))


def post_coverage(client, patient, body):
    return client.post(
        f"/api/v1/patients/{patient.pk}/coverage", body, content_type="application/json"
    )


def test_front_desk_adds_coverage_through_the_api_and_it_is_stored_and_audited(
    front_desk, patient_a
):
    response = post_coverage(signed_in(front_desk), patient_a, INSURED)

    assert response.status_code == 201, response.content
    stored = Coverage.objects.get(pk=response.json()["id"])
    assert (stored.payer_name, stored.member_id, stored.network) == ("Aetna", "W123456789", "in")
    assert stored.created_by == front_desk
    assert AuditEvent.objects.filter(
        action="coverage.create", patient_id=patient_a.pk, object_id=str(stored.pk)
    ).exists()


def test_a_change_is_a_new_row_closing_the_old_one_never_an_overwrite(
    front_desk, clinic_admin, patient_a
):
    first = post_coverage(signed_in(front_desk), patient_a, INSURED).json()
    second = post_coverage(
        signed_in(clinic_admin),
        patient_a,
        {"self_pay": True, "effective_from": "2026-06-01"},
    )

    assert second.status_code == 201
    old = Coverage.objects.get(pk=first["id"])
    assert old.payer_name == "Aetna"
    assert old.member_id == "W123456789"
    assert old.closed_at is not None
    assert old.closed_by == clinic_admin
    new = Coverage.objects.get(pk=second.json()["id"])
    assert new.replaces == old
    assert new.self_pay
    listed = signed_in(front_desk).get(f"/api/v1/patients/{patient_a.pk}/coverage").json()
    assert [(c["id"], c["current"]) for c in listed] == [(new.pk, True), (old.pk, False)]


def test_an_end_before_the_start_is_422_naming_the_field_and_nothing_changes(front_desk, patient_a):
    response = post_coverage(
        signed_in(front_desk), patient_a, INSURED | {"effective_to": "2025-12-31"}
    )

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["effective_to"]
    assert not Coverage.objects.exists()
    assert AuditEvent.objects.filter(action="coverage.create", outcome="invalid").exists()


def test_an_unknown_field_is_422(front_desk, patient_a):
    response = post_coverage(signed_in(front_desk), patient_a, INSURED | {"copay": 20})
    assert response.status_code == 422


@pytest.mark.parametrize("who", ["nurse", "therapist", "prescriber"])
def test_clinicians_may_read_but_not_change_coverage(cast, patient_a, who):
    client = signed_in(cast[who])
    assert client.get(f"/api/v1/patients/{patient_a.pk}/coverage").status_code == 200
    assert post_coverage(client, patient_a, INSURED).status_code == 403
    assert not Coverage.objects.exists()


def test_an_outsider_and_another_patient_get_404(outsider, patient_a, patient_b):
    for user in (outsider, patient_b.user):
        client = signed_in(user)
        assert client.get(f"/api/v1/patients/{patient_a.pk}/coverage").status_code == 404
        assert post_coverage(client, patient_a, INSURED).status_code == 404


def test_reading_coverage_is_audited(front_desk, patient_a):
    signed_in(front_desk).get(f"/api/v1/patients/{patient_a.pk}/coverage")
    assert AuditEvent.objects.filter(
        action="patient.view", patient_id=patient_a.pk, detail__section="api.coverage"
    ).exists()


def test_the_chart_shows_the_coverage_tab_with_current_coverage_and_history(front_desk, patient_a):
    client = signed_in(front_desk)
    post_coverage(client, patient_a, INSURED)
    post_coverage(
        client, patient_a, INSURED | {"member_id": "W999", "effective_from": "2026-03-01"}
    )

    page = client.get(f"/patients/{patient_a.pk}/tab/coverage/")

    assert page.status_code == 200
    text = page.content.decode()
    assert "W999" in text
    assert "W123456789" in text
    assert "Change coverage" in text


def test_front_desk_changes_coverage_through_the_form(front_desk, patient_a):
    client = signed_in(front_desk)
    assert client.get(f"/billing/patients/{patient_a.pk}/coverage/add/").status_code == 200
    response = client.post(
        f"/billing/patients/{patient_a.pk}/coverage/add/",
        {"self_pay": "on", "network": "unknown", "effective_from": "2026-02-01"},
    )

    assert response.status_code == 302
    assert Coverage.objects.get(patient=patient_a).self_pay


def test_the_form_refuses_an_end_before_the_start_with_422(front_desk, patient_a):
    response = signed_in(front_desk).post(
        f"/billing/patients/{patient_a.pk}/coverage/add/",
        {
            "self_pay": "on",
            "network": "unknown",
            "effective_from": "2026-02-01",
            "effective_to": "2026-01-01",
        },
    )

    assert response.status_code == 422
    assert "cannot end before it starts" in response.content.decode()
    assert not Coverage.objects.exists()


def test_a_nurse_may_not_open_the_coverage_form(nurse, patient_a):
    assert (
        signed_in(nurse).get(f"/billing/patients/{patient_a.pk}/coverage/add/").status_code == 403
    )
