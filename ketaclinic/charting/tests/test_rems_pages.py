"""REMS pages: who may open a form, enrol a patient, certify the setting; print and PDF."""

from __future__ import annotations

import datetime as dt
import sys

import pytest
from django.utils import timezone

from ketaclinic.audit.models import AuditEvent
from ketaclinic.charting.models import RemsEnrollment, SettingCertification
from ketaclinic.conftest import signed_in
from ketaclinic.inventory.tests.helpers import plan_for, session_on

from .rems_makers import certify, esketamine_session


@pytest.fixture
def session(patient_a, prescriber, nurse):
    day = timezone.localdate() - dt.timedelta(days=1)
    certify(prescriber, day)
    return esketamine_session(patient_a, prescriber, nurse, day=day)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("prescriber", 200),
        ("nurse", 200),
        ("clinic_admin", 403),
        ("therapist", 403),
        ("front_desk", 403),
        ("patient_a", 403),  # their own session's form: staff work
        ("patient_b", 404),  # another patient's session: not found
        ("outsider", 404),
    ],
)
def test_the_form_follows_the_patient_record_rules(cast, session, who, status):
    assert signed_in(cast[who]).get(f"/rems/sessions/{session.pk}/").status_code == status


@pytest.mark.parametrize("who", ["patient_b", "outsider"])
def test_another_patients_form_cannot_be_saved_submitted_or_downloaded(cast, session, who):
    client = signed_in(cast[who])
    base = f"/rems/sessions/{session.pk}/"
    assert client.post(base + "save/", {"ready_to_leave_minutes": "5"}).status_code == 404
    assert client.post(base + "submit/").status_code == 404
    assert client.get(base + "pdf/").status_code == 404


@pytest.mark.parametrize(
    ("who", "status"),
    [("nurse", 200), ("clinic_admin", 200), ("front_desk", 403), ("patient_a", 404)],
)
def test_the_rems_lists_are_for_clinicians_and_the_clinic_admin(cast, db, who, status):
    assert signed_in(cast[who]).get("/rems/").status_code == status
    assert signed_in(cast[who]).get("/rems/overdue/").status_code == status


def test_an_iv_session_has_no_rems_form(patient_b, prescriber, nurse):
    iv = session_on(plan_for(patient_b, prescriber, "iv"), nurse)
    assert signed_in(nurse).get(f"/rems/sessions/{iv.pk}/").status_code == 404


def test_the_form_page_has_a_print_layout(nurse, session):
    page = signed_in(nurse).get(f"/rems/sessions/{session.pk}/").content.decode()
    assert "@media print" in page
    assert "data-print" in page  # a Print button (static/js/ketaclinic.js; no inline handler)
    assert AuditEvent.objects.filter(action="rems.view", patient_id=session.patient_id).exists()


def test_the_form_downloads_as_a_pdf_marked_incomplete(nurse, session):
    pytest.importorskip("fpdf")
    response = signed_in(nurse).get(f"/rems/sessions/{session.pk}/pdf/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    content = response.content
    assert content.startswith(b"%PDF")
    assert b"Ada Alvarez" in content
    assert b"INCOMPLETE" in content


def test_without_the_pdf_package_the_download_says_so_and_printing_still_works(
    nurse, session, monkeypatch
):
    monkeypatch.setitem(sys.modules, "fpdf", None)  # import fpdf now raises ImportError
    client = signed_in(nurse)

    response = client.get(f"/rems/sessions/{session.pk}/pdf/")
    assert response.status_code == 503
    assert "fpdf2" in response.content.decode()
    assert client.get(f"/rems/sessions/{session.pk}/").status_code == 200


def test_a_nurse_enrols_a_patient_and_a_correction_keeps_the_old_values(nurse, patient_a):
    client = signed_in(nurse)
    url = f"/rems/patients/{patient_a.pk}/enrol/"
    first = client.post(url, {"rems_patient_id": "RP-1", "enrolled_on": "2026-01-05"})
    assert first.status_code == 302
    client.post(url, {"rems_patient_id": "RP-2", "enrolled_on": "2026-01-05"})

    enrolment = RemsEnrollment.objects.get(patient=patient_a)
    assert (enrolment.rems_patient_id, enrolment.recorded_by) == ("RP-2", nurse)
    last = AuditEvent.objects.filter(action="rems.enrol").order_by("-seq").first()
    assert last.detail["before"]["rems_patient_id"] == "RP-1"
    assert last.detail["after"]["rems_patient_id"] == "RP-2"


def test_enrolment_in_the_future_is_refused(nurse, patient_a):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = signed_in(nurse).post(
        f"/rems/patients/{patient_a.pk}/enrol/",
        {"rems_patient_id": "RP-1", "enrolled_on": tomorrow.isoformat()},
    )
    assert response.status_code == 422
    assert not RemsEnrollment.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"),
    [("front_desk", 403), ("clinic_admin", 403), ("patient_a", 403), ("patient_b", 404)],
)
def test_enrolment_is_for_clinicians(cast, patient_a, who, status):
    response = signed_in(cast[who]).post(
        f"/rems/patients/{patient_a.pk}/enrol/",
        {"rems_patient_id": "RP-1", "enrolled_on": "2026-01-05"},
    )
    assert response.status_code == status
    assert not RemsEnrollment.objects.exists()


def test_the_clinic_admin_records_the_setting_certification(clinic_admin):
    response = signed_in(clinic_admin).post(
        "/rems/certification/",
        {"certificate_id": "SET-42", "certified_on": "2026-01-01", "expires_on": ""},
    )
    assert response.status_code == 302
    certificate = SettingCertification.objects.get()
    assert (certificate.certificate_id, certificate.recorded_by) == ("SET-42", clinic_admin)
    assert AuditEvent.objects.filter(action="rems.certify", actor=clinic_admin).exists()


def test_a_nurse_sees_the_certification_but_cannot_record_one(nurse):
    client = signed_in(nurse)
    assert client.get("/rems/certification/").status_code == 200
    response = client.post(
        "/rems/certification/", {"certificate_id": "X", "certified_on": "2026-01-01"}
    )
    assert response.status_code == 403
    assert not SettingCertification.objects.exists()


def test_a_certificate_that_expires_before_it_starts_is_refused(clinic_admin):
    response = signed_in(clinic_admin).post(
        "/rems/certification/",
        {"certificate_id": "SET-1", "certified_on": "2026-02-01", "expires_on": "2026-01-01"},
    )
    assert response.status_code == 422
    assert not SettingCertification.objects.exists()
