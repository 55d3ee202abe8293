"""In Chromium on a 1366×768 laptop screen, the demo clinic's busiest day and busiest staff week:
every chair and staff column of the day can be reached (the grid scrolls sideways inside
itself, its times stay in view, the page never overflows), and the week lays overlapping
visits side by side, each wide enough to read."""

from __future__ import annotations

from collections import Counter

import pytest

from ketaclinic.conftest import sign_in
from ketaclinic.demo import clinic
from ketaclinic.scheduling.models import Appointment, Chair, Room, RoomKind

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}
READABLE_PX = 60


@pytest.fixture
def laptop(chromium, live_server):
    context = chromium.new_context(base_url=live_server.url, viewport=LAPTOP)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def busy_clinic(transactional_db):
    """The demo clinic, with a second infusion suite so the day has more columns than fit."""
    clinic.load(patients=40)
    annex = Room.objects.create(name="Annex suite", kind=RoomKind.INFUSION_SUITE)
    for n in range(1, 5):
        Chair.objects.create(room=annex, name=f"Annex chair {n}")
    visits = list(Appointment.objects.holding())
    [(day, _)] = Counter(v.local_start.date() for v in visits).most_common(1)
    by_staff = Counter((v.staff_id, v.local_start.date()) for v in visits if v.staff_id)
    [((staff_id, staff_day), _)] = by_staff.most_common(1)
    return {"day": day, "staff_id": staff_id, "staff_day": staff_day}


def page_overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_every_column_of_the_busiest_day_can_be_reached(laptop, busy_clinic):
    page = laptop
    sign_in(page, "frontdesk", clinic.DEMO_PASSWORD)
    page.goto(f"/calendar/?date={busy_clinic['day']:%Y-%m-%d}")

    heads = page.locator(".tl-head")
    titles = heads.all_inner_texts()
    chairs = [str(chair) for chair in Chair.objects.filter(active=True).select_related("room")]
    assert [t for t in titles if t in chairs] == chairs
    assert len(titles) > len(chairs), "consultations appear under their staff"
    assert page_overflow(page) <= 0
    timeline = page.locator(".timeline")
    assert timeline.evaluate("t => t.scrollWidth > t.clientWidth"), "more columns than fit"
    # The grid fits the window: its headings and its sideways scrollbar are seen together.
    assert timeline.bounding_box()["height"] <= LAPTOP["height"]

    for index, title in enumerate(titles):
        head = heads.nth(index)
        head.scroll_into_view_if_needed()
        box, frame = head.bounding_box(), timeline.bounding_box()
        assert box["x"] >= frame["x"], title
        assert box["x"] + box["width"] <= frame["x"] + frame["width"] + 1, title
        assert box["y"] >= 0, title
        assert box["y"] + box["height"] <= LAPTOP["height"], title
        centre = head.evaluate(
            "h => { const r = h.getBoundingClientRect();"
            " return h.contains(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)); }"
        )
        assert centre, f"{title} is covered"
    assert page_overflow(page) <= 0

    # Scrolled to the last column, the times are still beside the grid.
    first_time = page.locator(".tl-time").first
    assert abs(first_time.bounding_box()["x"] - timeline.bounding_box()["x"]) <= 2


def test_the_busiest_staff_week_shows_overlapping_visits_side_by_side(laptop, busy_clinic):
    page = laptop
    sign_in(page, "frontdesk", clinic.DEMO_PASSWORD)
    page.goto(
        f"/calendar/staff/{busy_clinic['staff_id']}/?week={busy_clinic['staff_day']:%Y-%m-%d}"
    )

    boxes = [v.bounding_box() for v in page.locator(".tl-visit").all()]
    assert len(boxes) >= 8
    narrowest = min(box["width"] for box in boxes)
    assert narrowest >= READABLE_PX, f"a visit is only {narrowest:.0f} px wide"
    side_by_side = 0
    for a in boxes:
        for b in boxes:
            if a is b:
                continue
            same_time = a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]
            same_place = a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            assert not (same_time and same_place), "two visits drawn over each other"
            side_by_side += same_time and abs(a["x"] - b["x"]) < 200
    assert side_by_side, "the busiest week has visits at the same time"
    assert page_overflow(page) <= 0
