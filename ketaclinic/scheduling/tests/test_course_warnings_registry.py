"""The course-warnings registry later apps register into (billing's prior authorization)."""

from __future__ import annotations

import pytest

from ketaclinic.scheduling import course_warnings
from ketaclinic.scheduling.course_warnings import CourseWarning


@pytest.fixture
def only_a_test_provider(monkeypatch):
    monkeypatch.setattr(course_warnings, "_PROVIDERS", {})
    course_warnings.register_provider(
        "test",
        lambda patient, plan, items: [
            CourseWarning(None, "whole course"),
            CourseWarning(2, "second visit"),
        ],
    )


def test_every_registered_providers_warnings_are_collected(only_a_test_provider):
    found = course_warnings.course_warnings(None, None, [])
    assert [w.message for w in found] == ["whole course", "second visit"]


def test_a_visit_gets_the_course_wide_warnings_and_its_own(only_a_test_provider):
    found = course_warnings.course_warnings(None, None, [])
    assert course_warnings.for_visit(found, 1) == ["whole course"]
    assert course_warnings.for_visit(found, 2) == ["whole course", "second visit"]


def test_registering_the_same_name_twice_keeps_one_provider(only_a_test_provider):
    course_warnings.register_provider("test", lambda patient, plan, items: [])
    assert course_warnings.course_warnings(None, None, []) == []


def test_billing_registers_its_prior_authorization_provider():
    assert "prior_authorization" in course_warnings._PROVIDERS
