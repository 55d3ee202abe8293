"""The REMS form is due within 7 days of the treatment [spravatorems.com]."""

from __future__ import annotations

from datetime import date

import pytest

from ketaclinic.charting.rems import due_date, is_overdue

TREATED = date(2025, 3, 3)


def test_the_form_is_due_7_days_after_the_treatment():
    assert due_date(TREATED) == date(2025, 3, 10)


@pytest.mark.parametrize(
    ("today", "overdue"),
    [(date(2025, 3, 3), False), (date(2025, 3, 10), False), (date(2025, 3, 11), True)],
    ids=["treatment day", "day 7", "day 8"],
)
def test_an_unfiled_form_is_overdue_from_the_day_after_it_was_due(today, overdue):
    assert is_overdue(TREATED, None, today) is overdue


def test_a_form_filed_on_the_due_date_is_not_overdue_later():
    assert not is_overdue(TREATED, date(2025, 3, 10), today=date(2025, 6, 1))


def test_a_form_filed_late_stays_marked_overdue():
    assert is_overdue(TREATED, date(2025, 3, 12), today=date(2025, 6, 1))


def test_a_form_cannot_be_filed_before_the_treatment():
    with pytest.raises(ValueError, match="before the treatment date"):
        is_overdue(TREATED, date(2025, 3, 1), today=date(2025, 3, 4))
