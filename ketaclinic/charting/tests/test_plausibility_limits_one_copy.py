"""The plausibility limits are written once, in charting's data: the database constraints
are built from it (and the migration holds the same numbers), and screening's blood
pressure input limits agree with it."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.db.migrations.loader import MigrationLoader

from ketaclinic.charting.models import VitalReading
from ketaclinic.charting.vital_constraints import CONSTRAINT_NAMES, plausibility_constraints
from ketaclinic.charting.vitals import DEFAULT_LIMITS, MEASUREMENT_FIELDS

SCREENING_FINDINGS = Path(__file__).parents[2] / "screening" / "data" / "findings.yaml"


def by_name(constraints):
    return {c.name: c for c in constraints if c.name.startswith("vitals_")}


def test_the_model_constraints_are_the_ones_built_from_the_data():
    assert by_name(VitalReading._meta.constraints) == by_name(plausibility_constraints())


def test_every_measurement_has_a_limit_and_a_constraint():
    assert {limit.field for limit in DEFAULT_LIMITS.limits} == set(MEASUREMENT_FIELDS)
    assert set(CONSTRAINT_NAMES) == set(MEASUREMENT_FIELDS)


@pytest.mark.django_db
def test_the_migrations_hold_the_same_limits_as_the_data():
    state = MigrationLoader(None, ignore_no_migrations=True).project_state()
    migrated = state.models["charting", "vitalreading"].options["constraints"]

    assert by_name(migrated) == by_name(plausibility_constraints())
    call_command("makemigrations", "charting", "--check", "--dry-run", verbosity=0)


def test_a_changed_limit_changes_the_constraint():
    systolic = DEFAULT_LIMITS.for_field("systolic_mmhg")
    moved = dataclasses.replace(systolic, high=Decimal(280))
    limits = dataclasses.replace(
        DEFAULT_LIMITS,
        limits=tuple(moved if lim is systolic else lim for lim in DEFAULT_LIMITS.limits),
    )

    built = by_name(plausibility_constraints(limits))

    assert (
        built["vitals_systolic_plausible"]
        != by_name(plausibility_constraints())["vitals_systolic_plausible"]
    )
    assert "280" in str(built["vitals_systolic_plausible"].condition)


@pytest.mark.parametrize("field", ["systolic_mmhg", "diastolic_mmhg"])
def test_screenings_blood_pressure_limits_agree_with_the_charts(field):
    with SCREENING_FINDINGS.open(encoding="utf-8") as handle:
        screening = yaml.safe_load(handle)["input_limits"][field]
    chart = DEFAULT_LIMITS.for_field(field)

    assert (Decimal(screening["min"]), Decimal(screening["max"])) == (chart.low, chart.high)


def test_screening_asks_for_a_diastolic_below_the_systolic_as_the_chart_does():
    with SCREENING_FINDINGS.open(encoding="utf-8") as handle:
        diastolic = yaml.safe_load(handle)["input_limits"]["diastolic_mmhg"]

    assert DEFAULT_LIMITS.diastolic_below_systolic
    assert diastolic.get("must_be_below") == "systolic_mmhg"
