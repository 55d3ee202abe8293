"""The chart's Sessions tab shows a page at a time, so a long history stays fast."""

from __future__ import annotations

import time
from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketaclinic.accounts import middleware
from ketaclinic.accounts.signals import LAST_SEEN
from ketaclinic.audit import trail
from ketaclinic.charting.models import SessionStatus, TreatmentSession
from ketaclinic.charting.tabs import PAGE_SIZE
from ketaclinic.conftest import signed_in

from .session_makers import open_session


# Session, user, patient, the audit event, visits checked in today, page count, the page's
# sessions with their counts, their infusion, bolus and nasal-device records, and the staff
# banner's open safety follow-ups (a nurse may resolve them; one query on every page).
def tab_queries_expected() -> int:
    return 10 + trail.statements_per_event()


def add_history(first: TreatmentSession, sessions: int) -> None:
    clones = []
    for _ in range(sessions):
        clone = TreatmentSession.objects.get(pk=first.pk)
        clone.pk, clone.appointment, clone.chair = None, None, None
        clone.status = SessionStatus.DISCHARGED
        clones.append(clone)
    TreatmentSession.objects.bulk_create(clones)


class FrozenClock:
    """The automatic-logoff middleware's clock, stopped for one measurement."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now


def tab_queries(client, url: str) -> int:
    """The queries of one page view, with the session's idle stamp held still.

    The middleware rewrites the idle stamp (three statements: savepoint, update, release)
    when ``TOUCH_EVERY_S`` have passed since the last write. On a busy machine that moment
    could fall between the warm-up request and the measured one, adding statements that
    have nothing to do with the page; with the clock stopped, the warm-up writes the stamp
    if it is due and the measured request never does.
    """
    with mock.patch.object(middleware, "time", FrozenClock()):
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
    return len(queries)


def test_the_tab_costs_the_same_queries_for_one_session_and_a_long_history(
    patient_a, prescriber, nurse
):
    first = open_session(patient_a, prescriber, nurse, "iv")
    client = signed_in(nurse)
    url = f"/patients/{patient_a.pk}/tab/sessions/"

    short = tab_queries(client, url)
    add_history(first, 3 * PAGE_SIZE)
    long = tab_queries(client, url)

    assert short == long == tab_queries_expected()


def test_a_long_history_is_paged(patient_a, prescriber, nurse):
    add_history(open_session(patient_a, prescriber, nurse, "iv"), PAGE_SIZE + 5)
    client = signed_in(nurse)
    url = f"/patients/{patient_a.pk}/tab/sessions/"

    page_one = client.get(url)
    html = page_one.content.decode()
    assert page_one.status_code == 200
    assert "Page 1 of 2" in html
    assert html.count('href="/sessions/') >= PAGE_SIZE
    page_two = client.get(url, {"page": 2}).content.decode()
    assert "Page 2 of 2" in page_two


def test_the_count_does_not_depend_on_when_the_idle_stamp_is_due(patient_a, prescriber, nurse):
    open_session(patient_a, prescriber, nurse, "iv")
    client = signed_in(nurse)
    url = f"/patients/{patient_a.pk}/tab/sessions/"
    session = client.session
    # The idle stamp is due to be rewritten: the warm-up request writes it, not the measured one.
    session[LAST_SEEN] = time.time() - middleware.TOUCH_EVERY_S - 1
    session.save()

    assert tab_queries(client, url) == tab_queries_expected()
