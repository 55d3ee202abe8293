"""Consent documents: signing on the portal, versions, the hash of the text, and the
pre-session checklist reading "consent on file for this route and version"."""

from __future__ import annotations

import hashlib

import pytest

from ketaclinic.audit.models import AuditEvent, Outcome
from ketaclinic.charting import checklist_facts
from ketaclinic.charting.checklist import states
from ketaclinic.charting.tests.session_makers import open_session
from ketaclinic.conftest import signed_in
from ketaclinic.intake import consent, consent_services
from ketaclinic.intake.models import ConsentSignature

IV = "iv_ketamine"


def url(code: str = IV) -> str:
    return f"/portal/consents/{code}/"


def sign(patient, document=None, **extra):
    document = document or consent.documents()[IV]
    body = {
        "typed_name": f"{patient.given_name} {patient.family_name}",
        "version": str(document.version),
        "sha256": document.sha256,
    } | extra
    return signed_in(patient.user).post(url(document.code), body)


def test_every_route_has_one_consent_document_with_sources():
    documents = consent.documents()
    assert set(documents) == {"iv_ketamine", "esketamine_rems", "sublingual_home"}
    for route in ("iv", "im", "esketamine", "sublingual", "oral"):
        assert consent.document_for_route(route) is not None
    assert all(d.sources and d.version >= 1 for d in documents.values())


def test_the_hash_is_the_sha256_of_the_exact_text():
    document = consent.documents()[IV]
    assert document.sha256 == hashlib.sha256(document.text.encode("utf-8")).hexdigest()


@pytest.mark.parametrize(
    ("typed", "matches"),
    [
        ("Ada Alvarez", True),
        ("  ada   ALVAREZ ", True),
        ("Ada", False),
        ("Alvarez Ada", False),
        ("", False),
    ],
)
def test_the_typed_name_must_be_the_full_name_on_the_record(typed, matches):
    assert consent.name_matches(typed, "Ada", "Alvarez") is matches


@pytest.mark.django_db
def test_the_patient_reads_the_document_with_its_version(patient_a):
    response = signed_in(patient_a.user).get(url())

    assert response.status_code == 200
    body = response.content.decode()
    assert "off-label" in body
    assert consent.documents()[IV].sha256 in body
    assert AuditEvent.objects.filter(
        action="patient.view", patient_id=patient_a.pk, detail__section="consent document"
    ).exists()


@pytest.mark.django_db
def test_signing_stores_name_time_version_and_hash(patient_a):
    response = sign(patient_a)

    assert response.status_code == 302
    signature = ConsentSignature.objects.get(patient=patient_a)
    document = consent.documents()[IV]
    assert (signature.document_code, signature.document_version, signature.text_sha256) == (
        IV,
        document.version,
        document.sha256,
    )
    assert signature.typed_name == "Ada Alvarez"
    assert signature.signed_by == patient_a.user
    assert signature.signed_at is not None
    event = AuditEvent.objects.get(action="consent.sign", outcome=Outcome.SUCCESS)
    assert event.detail["sha256"] == document.sha256


@pytest.mark.django_db
def test_a_name_that_does_not_match_is_refused(patient_a):
    response = sign(patient_a, typed_name="Someone Else")

    assert response.status_code == 422
    assert "full name" in response.content.decode()
    assert not ConsentSignature.objects.exists()
    assert AuditEvent.objects.filter(action="consent.sign", outcome=Outcome.INVALID).exists()


@pytest.mark.django_db
def test_a_text_changed_while_the_page_was_open_is_a_conflict(patient_a):
    response = sign(patient_a, sha256="0" * 64)

    assert response.status_code == 409
    assert "has changed" in response.content.decode()
    assert not ConsentSignature.objects.exists()


@pytest.mark.django_db
def test_signing_the_same_version_twice_is_a_conflict(patient_a):
    sign(patient_a)

    response = sign(patient_a)

    assert response.status_code in (200, 409)
    assert ConsentSignature.objects.filter(patient=patient_a).count() == 1


@pytest.mark.django_db
def test_a_new_version_requires_a_new_signature(patient_a, request):
    sign(patient_a)
    old = consent.documents()[IV]
    new = request.getfixturevalue("new_version")
    assert (new.version, new.sha256 != old.sha256) == (2, True)

    assert consent_services.current_signature(patient_a, new) is None
    found = consent_services.consent_on_file(patient_a, "iv")
    assert found.met is None
    assert f"version {new.version} needs a new signature" in found.detail

    assert sign(patient_a, new).status_code == 302
    assert consent_services.consent_on_file(patient_a, "iv").met is True
    assert ConsentSignature.objects.filter(patient=patient_a).count() == 2


@pytest.fixture
def new_version(tmp_path, monkeypatch):
    """The IV consent document as a clinic would change it: new text, the next version."""
    for path in consent.DATA_DIR.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        if path.stem == IV:
            text = text.replace("version: 1", "version: 2").replace(
                "What this treatment is.", "What this treatment is, revised."
            )
        (tmp_path / path.name).write_text(text, encoding="utf-8")
    monkeypatch.setattr(consent, "DATA_DIR", tmp_path)
    return consent.documents()[IV]


@pytest.mark.django_db
def test_staff_other_patients_and_outsiders_cannot_sign_or_read(patient_a, nurse, outsider):
    assert signed_in(nurse).get(url()).status_code == 404
    assert signed_in(outsider).get(url()).status_code == 404
    assert signed_in(patient_a.user).get(url("no_such_document")).status_code == 404


@pytest.mark.django_db
def test_the_portal_lists_signed_consents(patient_a):
    sign(patient_a)

    response = signed_in(patient_a.user).get("/portal/consents/")

    assert response.status_code == 200
    assert "You signed this on" in response.content.decode()


# --- the pre-session checklist --------------------------------------------------------------


def consent_state(session):
    facts = checklist_facts.checklist_facts(session)
    return next(s for s in states(facts, []) if s.code == "consent_on_file")


@pytest.mark.django_db
def test_the_checklist_reads_a_signed_consent_for_the_sessions_route(patient_a, prescriber, nurse):
    session = open_session(patient_a, prescriber, nurse, "iv")
    assert consent_state(session).state == "pending"

    sign(patient_a)

    state = consent_state(session)
    assert (state.state, state.how) == ("passed", "record")
    assert "version 1" in state.detail
    assert state.by == "Ada Alvarez"


@pytest.mark.django_db
def test_a_consent_for_another_route_does_not_count(patient_a, prescriber, nurse):
    session = open_session(patient_a, prescriber, nurse, "esketamine")

    sign(patient_a)  # the IV document

    assert consent_state(session).state == "pending"
    sign(patient_a, consent.documents()["esketamine_rems"])
    assert consent_state(session).state == "passed"


@pytest.mark.django_db
def test_the_checklist_asks_again_when_the_document_has_a_new_version(
    patient_a, prescriber, nurse, request
):
    session = open_session(patient_a, prescriber, nurse, "iv")
    sign(patient_a)
    request.getfixturevalue("new_version")

    state = consent_state(session)

    assert state.state == "pending"
    assert "needs a new signature" in state.detail
