"""Bad schedule requests are refused with the field named."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from ketaclinic.plans.schedule import ScheduleError, propose_schedule, schedule_codes


def test_the_four_schedule_patterns_are_offered():
    assert schedule_codes() == (
        "iv_induction",
        "iv_maintenance",
        "esketamine_trd",
        "esketamine_mdsi",
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"protocol_code": "iv_weekly"}, "protocol"),
        ({"protocol_code": None}, "protocol"),
        ({"working_weekdays": [0, 2]}, "working_weekdays"),
        ({"working_weekdays": [0, 0, 2, 2]}, "working_weekdays"),
        ({"working_weekdays": []}, "working_weekdays"),
        ({"working_weekdays": [0, 2, 7]}, "working_weekdays"),
        ({"working_weekdays": [-1, 2, 4]}, "working_weekdays"),
        ({"working_weekdays": [0, 2, "4"]}, "working_weekdays"),
        ({"working_weekdays": [True, 2, 4]}, "working_weekdays"),
        ({"working_weekdays": "024"}, "working_weekdays"),
        ({"working_weekdays": None}, "working_weekdays"),
        ({"start_date": "2026-12-07"}, "start_date"),
        ({"start_date": datetime(2026, 12, 7, 9, 0)}, "start_date"),  # noqa: DTZ001
        ({"start_date": None}, "start_date"),
        ({"count": 6}, "count"),
        ({"interval_weeks": 4}, "interval_weeks"),
        ({"horizon_weeks": 8}, "horizon_weeks"),
        ({"maintenance_weekly": True}, "maintenance_weekly"),
        ({"maintenance_weekly": "yes"}, "maintenance_weekly"),
        ({"start_date": date(9999, 12, 25)}, "start_date"),
    ],
)
def test_bad_inputs_are_refused_with_the_field(kwargs, field):
    request = {
        "protocol_code": "iv_induction",
        "start_date": date(2026, 12, 7),
        "working_weekdays": [0, 2, 4],
    } | kwargs
    protocol_code = request.pop("protocol_code")
    with pytest.raises(ScheduleError) as caught:
        propose_schedule(protocol_code, **request)
    assert caught.value.field == field
    assert isinstance(caught.value, ValueError)


def test_duplicate_working_days_count_once():
    sessions = propose_schedule(
        "iv_induction", start_date=date(2026, 12, 7), working_weekdays=[0, 0, 2, 4, 4]
    )
    assert len(sessions) == 6
