"""An appointment's history reads in the clinic's time and words: every time on it in the
clinic's zone with the zone named (an evening event is on its local day, not UTC's next
day), moves named by local times, status changes by their labels, never codes."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from ketaclinic.conftest import signed_in
from ketaclinic.scheduling import history
from ketaclinic.scheduling.models import Appointment, AppointmentEvent, clinic_datetime

from .conftest import MONDAY

# Friday 21:30 in New York is Saturday 02:30 UTC.
FRIDAY_EVENING = clinic_datetime(MONDAY - dt.timedelta(days=3), dt.time(21, 30))


def post(client, url: str, body: dict):
    return client.post(url, body, content_type="application/json")


@pytest.fixture
def visit(calendar, front_desk, patients) -> Appointment:
    client = signed_in(front_desk)
    body = {
        "patient_id": patients[0].pk,
        "type": "iv_infusion",
        "starts_at": clinic_datetime(MONDAY, dt.time(9)).isoformat(),
    }
    appointment = Appointment.objects.get(
        pk=post(client, "/api/v1/appointments", body).json()["id"]
    )
    moved = post(
        client,
        f"/api/v1/appointments/{appointment.pk}/move",
        {"starts_at": clinic_datetime(MONDAY, dt.time(13, 15)).isoformat()},
    )
    assert moved.status_code == 200
    confirmed = post(
        client, f"/api/v1/appointments/{appointment.pk}/status", {"status": "confirmed"}
    )
    assert confirmed.status_code == 200
    AppointmentEvent.objects.filter(appointment=appointment).update(at=FRIDAY_EVENING)
    return appointment


def history_rows(client, appointment) -> list[list[str]]:
    html = client.get(f"/calendar/appointments/{appointment.pk}/").content.decode()
    table = html.split('id="appointment-history"', 1)[1].split("</table>", 1)[0]
    table = table.split("<tbody>", 1)[1]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.DOTALL)
    return [[" ".join(cell.split()) for cell in re.findall(r"<td>(.*?)</td>", row)] for row in rows]


def test_an_evening_event_shows_on_its_clinic_day_with_the_zone_named(visit, front_desk):
    rows = history_rows(signed_in(front_desk), visit)

    assert [when for when, _, _ in rows] == ["Fri 26 Feb 2027, 21:30 EST"] * 3
    assert FRIDAY_EVENING.astimezone(dt.UTC).date() == dt.date(2027, 2, 27)


def test_a_move_names_both_places_in_clinic_time(visit, front_desk):
    rows = history_rows(signed_in(front_desk), visit)

    assert rows[1][2] == "Moved from Mon 1 Mar 2027, 09:00 EST to Mon 1 Mar 2027, 13:15 EST"
    page = " ".join(" ".join(row) for row in rows)
    assert "UTC" not in page
    assert "+00:00" not in page
    assert "T14:00" not in page


def test_status_changes_read_as_labels_not_codes(visit, front_desk):
    rows = history_rows(signed_in(front_desk), visit)

    assert [what for _, _, what in rows] == [
        "Booked",
        "Moved from Mon 1 Mar 2027, 09:00 EST to Mon 1 Mar 2027, 13:15 EST",
        "Scheduled → Confirmed",
    ]
    assert rows[0][1] == front_desk.display_name


def test_a_summer_time_is_labelled_edt():
    summer = clinic_datetime(dt.date(2027, 7, 2), dt.time(22, 5))

    assert history.clinic_time(summer) == "Fri 2 Jul 2027, 22:05 EDT"
    assert history.clinic_time(summer.astimezone(dt.UTC).isoformat()) == (
        "Fri 2 Jul 2027, 22:05 EDT"
    )


@pytest.mark.parametrize(
    ("code", "label"),
    [("checked_in", "Checked in"), ("no_show", "No-show"), ("some_new_state", "Some new state")],
)
def test_status_codes_become_labels(code, label):
    assert history.status_label(code) == label
