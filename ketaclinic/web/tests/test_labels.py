"""Codes read as words on pages: actions, roles, fields with units, details, transitions."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.template import Context, Template

from ketaclinic.web import labels


@pytest.mark.parametrize(
    ("code", "shown"),
    [
        ("checked_in", "Checked in"),
        ("appointment.checked_in", "Appointment: checked in"),
        ("clinic_admin", "Clinic admin"),
        ("prior_auth.change", "Prior auth: change"),
        ("patient.view", "Patient: view"),
        ("scheduled", "Scheduled"),
        ("DEMO0013", "DEMO0013"),
        ("Already words", "Already words"),
        ("", ""),
        (None, ""),
    ],
)
def test_a_code_reads_as_words(code, shown):
    assert labels.words(code) == shown


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("quantity_mg", "Quantity (mg)"),
        ("rate_mg_per_min", "Rate (mg/min)"),
        ("spo2_pct", "SpO2 (%)"),
        ("systolic_mmhg", "Systolic (mmHg)"),
        ("observation_minutes", "Observation (min)"),
        ("witness", "Witness"),
        ("course_key", "Course key"),
    ],
)
def test_a_field_name_reads_as_a_label_with_its_unit(name, label):
    assert labels.field_label(name) == label


def test_a_status_change_reads_as_labels():
    assert labels.transition(["scheduled", "checked_in"]) == "Scheduled → Checked in"
    assert labels.transition(["", "draft"]) == "— → Draft"


def test_an_audit_detail_reads_as_fields_and_values_never_a_dict():
    detail = {
        "status": ["to_submit", "submitted"],
        "quantity_mg": "4600.00",
        "flagged": False,
        "reason": "",
        "changed": {"G2082": {"from": "0.00", "to": "400.00"}},
        "codes": ["G2082 x1", "S0013 x56"],
        "code": "bp_high",
        "permission": "patient.edit_demographics",
        "ends": None,
    }
    assert labels.detail_lines(detail) == [
        ("Status", "To submit → Submitted"),
        ("Quantity (mg)", "4600.00"),
        ("Flagged", "no"),
        ("Changed", "G2082: 0.00 → 400.00"),
        ("Codes", "G2082 x1, S0013 x56"),
        ("Code", "bp high"),
        ("Permission", "patient · edit demographics"),
        ("Ends", "—"),
    ]
    assert labels.detail_lines({}) == []


def test_an_automatic_job_is_named_in_words_a_person_by_username():
    assert labels.who("send_reminders", person=False) == "Send reminders (automatic)"
    assert labels.who("maya_chen", person=True) == "maya_chen"
    assert labels.who("", person=False) == "system"


def test_the_filters_render_the_audit_row():
    event = SimpleNamespace(
        actor_id=None,
        actor_username="run_jobs",
        action="appointment.checked_in",
        detail={"status": ["scheduled", "checked_in"]},
    )
    html = Template(
        "{% load clinic_words %}{{ e|who }} | {{ e.action|words }} | "
        '{% include "web/_detail.html" with detail=e.detail %}'
    ).render(Context({"e": event}))
    assert html.strip() == (
        "Run jobs (automatic) | Appointment: checked in | "
        '<span class="detail-field">Status: Scheduled → Checked in</span>'
    )
