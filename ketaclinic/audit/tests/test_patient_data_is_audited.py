"""Every create, view and change of patient data, and every refusal, leaves an audit row."""

from __future__ import annotations

from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.conftest import signed_in


def newest(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).order_by("-seq").first()


def test_creating_a_patient_records_who_what_when_and_from_where(front_desk):
    response = signed_in(front_desk).post(
        "/patients/new/",
        {
            "given_name": "Cleo",
            "family_name": "Dunn",
            "date_of_birth": "1990-02-03",
            "sex": "female",
        },
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 302
    event = newest("patient.create")
    assert event.actor == front_desk
    assert event.actor_role == "front_desk"
    assert event.ip_address == "10.1.2.3"
    assert event.outcome == Outcome.SUCCESS
    assert event.detail["fields"]["family_name"] == "Dunn"
    assert event.at is not None
    assert event.patient_id == int(event.object_id)


def test_viewing_a_chart_tab_records_the_section(nurse, patient_a):
    signed_in(nurse).get(f"/patients/{patient_a.pk}/tab/history/")
    event = newest("patient.view")
    assert event.patient_id == patient_a.pk
    assert event.detail == {"section": "history"}


def test_changing_demographics_keeps_old_and_new_values(front_desk, patient_a):
    client = signed_in(front_desk)
    form = client.get(f"/patients/{patient_a.pk}/edit/").context["form"]
    data = {name: form[name].value() or "" for name in form.fields} | {"phone": "860-555-0142"}
    response = client.post(f"/patients/{patient_a.pk}/edit/", data)
    assert response.status_code == 302
    patient_a.refresh_from_db()
    assert patient_a.phone == "860-555-0142"
    assert newest("patient.change").detail == {"changes": {"phone": ["", "860-555-0142"]}}


def test_a_refused_access_is_recorded_with_the_reason(patient_a, patient_b):
    response = signed_in(patient_a.user).get(f"/patients/{patient_b.pk}/")
    assert response.status_code == 404
    event = newest("access.refused")
    assert event.actor == patient_a.user
    assert event.patient_id == patient_b.pk
    assert event.outcome == Outcome.REFUSED


def test_the_audit_browser_filters_by_user_patient_and_outcome(
    clinic_admin, nurse, patient_a, patient_b
):
    signed_in(nurse).get(f"/patients/{patient_a.pk}/")
    signed_in(patient_a.user).get(f"/patients/{patient_b.pk}/")
    admin = signed_in(clinic_admin)

    by_nurse = admin.get("/audit/", {"actor": "nurse"}).context["page"]
    assert {e.actor_username for e in by_nurse} == {"nurse"}
    refused = admin.get("/audit/", {"outcome": "refused"}).context["page"]
    assert [e.patient_id for e in refused] == [patient_b.pk]
    for_a = admin.get("/audit/", {"patient": str(patient_a.pk)}).context["page"]
    assert {e.patient_id for e in for_a} == {patient_a.pk}
    assert newest("audit.view").actor == clinic_admin
