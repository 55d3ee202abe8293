"""The chart's Sessions tab shows a page at a time, so a long history stays fast."""

from __future__ import annotations

from ketaclinic.charting.models import SessionStatus, TreatmentSession
from ketaclinic.charting.tabs import PAGE_SIZE
from ketaclinic.conftest import signed_in

from .session_makers import open_session


def test_a_long_history_is_paged_with_a_flat_query_count(
    patient_a, prescriber, nurse, django_assert_max_num_queries
):
    first = open_session(patient_a, prescriber, nurse, "iv")
    clones = []
    for _ in range(PAGE_SIZE + 5):
        clone = TreatmentSession.objects.get(pk=first.pk)
        clone.pk, clone.appointment, clone.chair = None, None, None
        clone.status = SessionStatus.DISCHARGED
        clones.append(clone)
    TreatmentSession.objects.bulk_create(clones)
    client = signed_in(nurse)
    url = f"/patients/{patient_a.pk}/tab/sessions/"
    client.get(url)

    with django_assert_max_num_queries(30):
        page_one = client.get(url)
    html = page_one.content.decode()
    assert page_one.status_code == 200
    assert "Page 1 of 2" in html
    assert html.count('href="/sessions/') >= PAGE_SIZE
    page_two = client.get(url, {"page": 2}).content.decode()
    assert "Page 2 of 2" in page_two
