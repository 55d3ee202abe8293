"""In Chromium: the front desk books the six infusions the signed plan proposes, moves one
visit, and the course view shows the move while the other five stay put."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from ketaclinic.accounts.models import User
from ketaclinic.conftest import make_patient, sign_in
from ketaclinic.demo import clinic
from ketaclinic.outcomes.tests.factories import make_plan
from ketaclinic.scheduling.models import Appointment, AppointmentType

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def working_days_from(start: dt.date, offsets) -> list[dt.date]:
    days = []
    for offset in offsets:
        day = start + dt.timedelta(days=offset)
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        days.append(day)
    return days


def test_the_front_desk_books_an_induction_course_and_moves_one_visit(page, transactional_db):
    clinic.load(patients=4)
    patient = make_patient("Course", "Booker")
    monday = timezone.localdate() + dt.timedelta(days=70)
    monday -= dt.timedelta(days=monday.weekday())
    offsets = (0, 2, 4, 7, 9, 11)
    dates = working_days_from(monday, offsets)
    prescriber = User.objects.filter(role="prescriber").first()
    plan = make_plan(patient, prescriber, start=monday, days=offsets, status="active")

    sign_in(page, "frontdesk", clinic.DEMO_PASSWORD)
    page.goto(f"/patients/{patient.pk}/")
    page.get_by_role("link", name="Book a course").click()
    expect(page.get_by_text("From the signed plan")).to_be_visible()
    expect(page.get_by_label("Visit")).to_have_value(
        str(AppointmentType.objects.get(code="iv_infusion").pk)
    )
    expect(page.get_by_label("Dates")).to_have_value("\n".join(str(d) for d in dates))
    page.get_by_role("button", name="Check placements").click()
    expect(page.locator("#course-preview tbody tr")).to_have_count(6)
    expect(page.locator("#course-preview")).not_to_contain_text("closed")
    page.get_by_role("button", name="Book all 6 visits").click()

    expect(page.get_by_text("Booked all 6 visits of the course.")).to_be_visible()
    expect(page.locator("#course-counts")).to_contain_text("6 visits: 6 booked")
    course_key = page.url.rstrip("/").rsplit("/", 1)[-1]
    assert course_key == f"plan-{plan.pk}"
    course = Appointment.objects.filter(patient=patient, course_key=course_key)
    booked = list(course.order_by("course_number"))
    assert [a.local_start.date() for a in booked] == dates

    page.get_by_role("row", name=re.compile(r"^3 ")).get_by_role("link").click()
    new_day = dates[2] - dt.timedelta(days=1)
    page.get_by_label("Date").fill(str(new_day))
    page.get_by_label("Time").fill("13:00")
    page.get_by_role("button", name="Move this visit").click()
    expect(page.get_by_text(re.compile(r"Moved to .* 13:00"))).to_be_visible()

    page.get_by_role("link", name="Whole course").click()
    expect(page.locator("#course-visits")).to_contain_text(
        f"{new_day:%a} {new_day.day} {new_day:%b %Y} 13:00"
    )
    moved = course.get(course_number=3)
    assert (moved.local_start.date(), moved.local_start.time()) == (new_day, dt.time(13))
    others = [a for a in course if a.course_number != 3]
    assert sorted(a.local_start.date() for a in others) == [
        d for i, d in enumerate(dates) if i != 2
    ]
