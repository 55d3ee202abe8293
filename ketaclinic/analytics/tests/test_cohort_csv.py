"""The cohort table exported as CSV: one row per course, the dashboard's filters applied."""

from __future__ import annotations

import csv
import datetime as dt
import io

from django.urls import reverse

from ketaclinic.analytics.cohort import CSV_COLUMNS
from ketaclinic.audit.models import AuditEvent
from ketaclinic.conftest import signed_in
from ketaclinic.outcomes.tests.factories import give_sessions, make_plan, scores

DAY_0 = dt.date(2025, 3, 3)


def export(client, **params) -> list[dict]:
    response = client.get(reverse("analytics:cohort_csv"), params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="ketaclinic-cohort-')
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_the_export_has_one_row_per_course_with_its_outcome(
    patient_a, patient_b, prescriber, nurse
):
    a = make_plan(patient_a, prescriber, start=DAY_0)
    give_sessions(a, nurse)
    scores(
        patient_a,
        "phq9",
        nurse,
        (DAY_0, 20),
        (DAY_0 + dt.timedelta(days=7), 10),
        (DAY_0 + dt.timedelta(days=12), 4),
    )
    make_plan(patient_b, prescriber, start=DAY_0, indication="ptsd", route="im")

    rows = export(signed_in(prescriber))

    assert list(rows[0]) == CSV_COLUMNS
    assert len(rows) == 2
    first = next(r for r in rows if r["plan_id"] == str(a.pk))
    assert first == {
        "plan_id": str(a.pk),
        "patient_id": str(patient_a.pk),
        "indication": "trd",
        "route": "iv",
        "prescriber": prescriber.display_name,
        "status": "completed",
        "start_date": "2025-03-03",
        "instrument": "phq9",
        "baseline": "20",
        "baseline_date": "2025-03-03",
        "current": "4",
        "current_date": "2025-03-15",
        "change_pct": "-80.0",
        "response": "yes",
        "remission": "yes",
        "time_to_response_days": "7",
        "time_to_response_sessions": "3",
        "durability_days": "1",
        "relapsed": "no",
        "sessions": "6",
        "complete_measurement": "yes",
    }
    second = next(r for r in rows if r["plan_id"] != str(a.pk))
    assert (second["instrument"], second["baseline"], second["response"]) == ("pcl5", "", "")


def test_the_export_follows_the_filters_and_is_audited(patient_a, patient_b, prescriber, nurse):
    make_plan(patient_a, prescriber, start=DAY_0)
    make_plan(patient_b, prescriber, start=DAY_0, indication="ptsd")

    rows = export(signed_in(prescriber), indication="ptsd")

    assert [r["indication"] for r in rows] == ["ptsd"]
    assert AuditEvent.objects.get(action="dashboard.export").detail["rows"] == 1
