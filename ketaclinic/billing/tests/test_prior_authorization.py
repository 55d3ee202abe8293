"""Prior authorization per plan: the transitions table, events and audit, the plan page and
worklist sections, and the warnings an esketamine course booking gets."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from ketaclinic.audit.models import AuditEvent
from ketaclinic.billing import authorization_services
from ketaclinic.billing.authorization import (
    AuthChange,
    AuthSnapshot,
    Visit,
    allowed_next,
    booking_warnings,
    change_problems,
)
from ketaclinic.billing.models import AuthorizationEvent, AuthStatus, PriorAuthorization
from ketaclinic.conftest import make_patient, signed_in
from ketaclinic.plans.tests.helpers import request_by
from ketaclinic.scheduling.models import Appointment
from ketaclinic.scheduling.tests.conftest import (  # noqa: F401 (fixtures)
    INDUCTION,
    MONDAY,
    calendar,
    signed_plan,
)

APPROVAL = AuthChange(
    AuthStatus.APPROVED,
    auth_number="PA-2027-001",
    units=6,
    valid_from=MONDAY,
    valid_to=MONDAY + dt.timedelta(days=30),
)


# --- the rules (pure) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "to", "allowed"),
    [
        ("", AuthStatus.TO_SUBMIT, True),
        ("", AuthStatus.DENIED, False),
        ("", AuthStatus.APPEAL, False),
        (AuthStatus.TO_SUBMIT, AuthStatus.SUBMITTED, True),
        (AuthStatus.TO_SUBMIT, AuthStatus.APPROVED, False),
        (AuthStatus.SUBMITTED, AuthStatus.DENIED, True),
        (AuthStatus.DENIED, AuthStatus.APPEAL, True),
        (AuthStatus.APPEAL, AuthStatus.APPROVED, True),
        (AuthStatus.APPROVED, AuthStatus.NOT_NEEDED, False),
        (AuthStatus.NOT_NEEDED, AuthStatus.APPROVED, False),
    ],
)
def test_a_status_moves_only_along_the_transitions_table(start, to, allowed):
    change = APPROVAL if to == AuthStatus.APPROVED else AuthChange(to, denial_reason="x")
    problems = change_problems(start, change)
    assert ("status" not in problems) is allowed
    assert (to in allowed_next(start)) is allowed


def test_a_refused_move_names_where_it_may_go_instead():
    problems = change_problems(AuthStatus.TO_SUBMIT, APPROVAL)
    assert "cannot go from To submit to Approved" in problems["status"]
    assert "Submitted" in problems["status"]


def test_an_approval_needs_number_units_and_dates_in_order():
    problems = change_problems(
        AuthStatus.SUBMITTED,
        AuthChange(AuthStatus.APPROVED, valid_from=MONDAY, valid_to=MONDAY - dt.timedelta(1)),
    )
    assert set(problems) == {"auth_number", "units", "valid_to"}


def test_a_denial_needs_the_payers_reason():
    assert set(change_problems(AuthStatus.SUBMITTED, AuthChange(AuthStatus.DENIED))) == {
        "denial_reason"
    }


def approved(units=6, days=30) -> AuthSnapshot:
    return AuthSnapshot(AuthStatus.APPROVED, units, MONDAY, MONDAY + dt.timedelta(days=days))


def visits(n: int) -> list[Visit]:
    return [Visit(i + 1, MONDAY + dt.timedelta(days=2 * i)) for i in range(n)]


def test_no_authorization_warns_once_for_the_whole_course():
    [warning] = booking_warnings(None, visits(3))
    assert warning.number is None
    assert "No approved prior authorization" in warning.message


def test_a_pending_authorization_warns_and_says_its_status():
    [warning] = booking_warnings(AuthSnapshot(AuthStatus.SUBMITTED, None, None, None), visits(2))
    assert "submitted" in warning.message


def test_an_authorization_not_needed_never_warns():
    assert booking_warnings(AuthSnapshot(AuthStatus.NOT_NEEDED, None, None, None), visits(9)) == []


def test_an_approval_covering_every_visit_gives_no_warning_up_to_the_last_unit():
    assert booking_warnings(approved(units=6), visits(6)) == []


def test_the_visit_beyond_the_approved_units_is_warned_by_number():
    [warning] = booking_warnings(approved(units=6), visits(7))
    assert warning.number == 7
    assert "beyond the 6 visits authorized" in warning.message


def test_visits_already_booked_use_units_first():
    [warning] = booking_warnings(approved(units=6), visits(3), already_booked=4)
    assert warning.number == 3


def test_a_visit_after_the_last_authorized_date_is_warned():
    found = booking_warnings(approved(units=20, days=4), visits(4))
    assert [w.number for w in found] == [4]
    assert "outside the authorized dates" in found[0].message


# --- the service ---------------------------------------------------------------------------


@pytest.fixture
def esketa_patient(db, prescriber):
    patient = make_patient("Esme", "Keta")
    signed_plan(patient, prescriber, route="esketamine")
    return patient


def plan_of(patient):
    return patient.plans.get()


def test_each_change_is_an_event_and_audited(esketa_patient, front_desk):
    plan = plan_of(esketa_patient)
    request = request_by(front_desk)
    authorization_services.authorization_change(
        request=request, plan=plan, change=AuthChange(AuthStatus.TO_SUBMIT)
    )
    authorization_services.authorization_change(
        request=request, plan=plan, change=AuthChange(AuthStatus.SUBMITTED), note="faxed"
    )
    auth = authorization_services.authorization_change(request=request, plan=plan, change=APPROVAL)

    auth.refresh_from_db()
    assert (auth.status, auth.auth_number, auth.units) == ("approved", "PA-2027-001", 6)
    events = list(AuthorizationEvent.objects.filter(authorization=auth))
    assert [(e.from_status, e.to_status) for e in events] == [
        ("", "to_submit"),
        ("to_submit", "submitted"),
        ("submitted", "approved"),
    ]
    assert events[1].note == "faxed"
    assert (
        AuditEvent.objects.filter(action="prior_auth.change", patient_id=esketa_patient.pk).count()
        == 3
    )


def test_a_refused_change_stores_nothing_and_is_audited_as_invalid(esketa_patient, front_desk):
    plan = plan_of(esketa_patient)
    with pytest.raises(ValidationError):
        authorization_services.authorization_change(
            request=request_by(front_desk), plan=plan, change=AuthChange(AuthStatus.DENIED)
        )
    assert not PriorAuthorization.objects.exists()
    assert AuditEvent.objects.filter(action="prior_auth.change", outcome="invalid").exists()


# --- the pages -----------------------------------------------------------------------------


def test_the_plan_page_shows_the_authorization_and_its_history(esketa_patient, front_desk):
    plan = plan_of(esketa_patient)
    authorization_services.authorization_change(
        request=request_by(front_desk), plan=plan, change=AuthChange(AuthStatus.SUBMITTED)
    )
    page = signed_in(front_desk).get(f"/patients/{esketa_patient.pk}/plans/{plan.pk}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert 'id="prior-authorization"' in text
    assert "Submitted" in text
    assert "Update authorization" in text


def test_a_therapist_sees_the_authorization_but_cannot_change_it(esketa_patient, therapist):
    plan = plan_of(esketa_patient)
    client = signed_in(therapist)
    text = client.get(f"/patients/{esketa_patient.pk}/plans/{plan.pk}/").content.decode()
    assert "No prior authorization recorded" in text
    assert "Update authorization" not in text
    url = f"/billing/patients/{esketa_patient.pk}/plans/{plan.pk}/authorization/"
    assert client.get(url).status_code == 403


def test_the_desk_approves_through_the_form(esketa_patient, front_desk):
    plan = plan_of(esketa_patient)
    client = signed_in(front_desk)
    url = f"/billing/patients/{esketa_patient.pk}/plans/{plan.pk}/authorization/"
    assert client.post(url, {"status": "submitted"}).status_code == 302
    response = client.post(
        url,
        {
            "status": "approved",
            "auth_number": "PA-9",
            "units": "8",
            "valid_from": str(MONDAY),
            "valid_to": str(MONDAY + dt.timedelta(days=60)),
        },
    )
    assert response.status_code == 302
    auth = PriorAuthorization.objects.get(plan=plan)
    assert (auth.status, auth.units, auth.auth_number) == ("approved", 8, "PA-9")


def test_the_form_refuses_an_approval_without_a_number_with_422(esketa_patient, front_desk):
    plan = plan_of(esketa_patient)
    client = signed_in(front_desk)
    url = f"/billing/patients/{esketa_patient.pk}/plans/{plan.pk}/authorization/"
    client.post(url, {"status": "submitted"})
    response = client.post(url, {"status": "approved", "units": "8"})
    assert response.status_code == 422
    assert "authorization number" in response.content.decode()
    assert PriorAuthorization.objects.get(plan=plan).status == "submitted"


def test_an_outsider_and_another_plan_are_not_found(
    esketa_patient, outsider, front_desk, prescriber
):
    plan = plan_of(esketa_patient)
    url = f"/billing/patients/{esketa_patient.pk}/plans/{plan.pk}/authorization/"
    assert signed_in(outsider).get(url).status_code == 404
    other = make_patient("Other", "Person")
    wrong = f"/billing/patients/{other.pk}/plans/{plan.pk}/authorization/"
    assert signed_in(front_desk).get(wrong).status_code == 404


def test_the_worklist_lists_authorizations_to_act_on(esketa_patient, front_desk, nurse):
    plan = plan_of(esketa_patient)
    authorization_services.authorization_change(
        request=request_by(front_desk), plan=plan, change=AuthChange(AuthStatus.TO_SUBMIT)
    )
    text = signed_in(nurse).get("/outcomes/worklist/").content.decode()
    assert "Prior authorizations to act on" in text
    assert esketa_patient.full_name in text


# --- booking an esketamine course ----------------------------------------------------------


def book_course(client, patient, body: dict):
    return client.post(
        f"/api/v1/patients/{patient.pk}/courses", body, content_type="application/json"
    )


@pytest.fixture
def esketamine_course(calendar, prescriber):  # noqa: F811
    patient = make_patient("Nasal", "Course")
    signed_plan(patient, prescriber, route="esketamine")
    return patient


def test_booking_an_esketamine_course_without_authorization_warns_on_every_visit(
    esketamine_course, front_desk
):
    response = book_course(signed_in(front_desk), esketamine_course, {})
    assert response.status_code == 201, response.content
    body = response.json()
    assert len(body) == len(INDUCTION)
    assert all("No approved prior authorization" in v["warnings"][0] for v in body)
    assert Appointment.objects.filter(patient=esketamine_course).count() == len(INDUCTION)


def test_an_approval_covering_the_course_leaves_no_warning(esketamine_course, front_desk):
    plan = plan_of(esketamine_course)
    request = request_by(front_desk)
    authorization_services.authorization_change(
        request=request, plan=plan, change=AuthChange(AuthStatus.SUBMITTED)
    )
    authorization_services.authorization_change(request=request, plan=plan, change=APPROVAL)
    body = book_course(signed_in(front_desk), esketamine_course, {}).json()
    assert [v["warnings"] for v in body] == [[]] * len(INDUCTION)


def test_too_few_units_warn_on_the_visits_beyond_them(esketamine_course, front_desk):
    plan = plan_of(esketamine_course)
    request = request_by(front_desk)
    authorization_services.authorization_change(
        request=request, plan=plan, change=AuthChange(AuthStatus.SUBMITTED)
    )
    authorization_services.authorization_change(
        request=request, plan=plan, change=AuthChange(**(APPROVAL.__dict__ | {"units": 4}))
    )
    body = book_course(signed_in(front_desk), esketamine_course, {}).json()
    warned = [v["course_number"] for v in body if v["warnings"]]
    assert warned == [5, 6]


def test_an_iv_course_gets_no_authorization_warning(calendar, front_desk, prescriber):  # noqa: F811
    patient = make_patient("Iv", "Course")
    signed_plan(patient, prescriber, route="iv")
    body = book_course(signed_in(front_desk), patient, {}).json()
    assert all(v["warnings"] == [] for v in body)


def test_the_course_preview_page_shows_the_warning(esketamine_course, front_desk):
    client = signed_in(front_desk)
    url = f"/calendar/patients/{esketamine_course.pk}/course/"
    form = client.get(url).context["form"]
    page = client.post(url, {"dates": form.initial["dates"], "type": form.initial["type"]})
    assert page.status_code == 200
    assert 'id="course-warnings"' in page.content.decode()
    assert "No approved prior authorization" in page.content.decode()
