"""A protocol kept outside the shipped file (the clinic's database copy) is validated by the
same rules, and dosing uses it as given."""

from __future__ import annotations

import copy
from decimal import Decimal
from importlib import resources

import pytest
import yaml

from ketaclinic.protocols import catalog, dosing
from ketaclinic.protocols.catalog import CatalogError


@pytest.fixture(scope="module")
def iv_entry():
    text = resources.files("ketaclinic.protocols").joinpath("data", "protocols.yaml")
    return next(
        p for p in yaml.safe_load(text.read_text())["protocols"] if p["code"] == "iv_racemic"
    )


def test_a_shipped_entry_parses_to_the_shipped_protocol(iv_entry):
    assert catalog.parse_protocol(iv_entry) == catalog.get_protocol("iv_racemic")


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda p: p["dose"]["allowed_mg_per_kg"].update(min=2), "above max"),
        (lambda p: p["dose"]["allowed_mg_per_kg"].update(sources=[]), "source"),
        (lambda p: p.update(course_schedules=["iv_daily"]), "unknown schedule"),
        (lambda p: p["infusion"].update(default_minutes=90), "allowed_minutes"),
    ],
)
def test_a_bad_copy_is_refused_naming_the_problem(iv_entry, mutate, problem):
    entry = copy.deepcopy(iv_entry)
    mutate(entry)

    with pytest.raises(CatalogError, match=problem):
        catalog.parse_protocol(entry, where="protocol iv_racemic")


def test_dosing_applies_the_range_of_the_protocol_it_is_given(iv_entry):
    entry = copy.deepcopy(iv_entry)
    entry["dose"]["allowed_mg_per_kg"]["max"] = "0.6"
    narrowed = catalog.parse_protocol(entry)

    with pytest.raises(dosing.DosingError, match=r"0\.1-0\.6 mg/kg"):
        dosing.calculate_dose(narrowed, weight_kg="70", dose_mg_per_kg="0.7")
    same = dosing.calculate_dose(narrowed, weight_kg="73.4", dose_mg_per_kg="0.5")
    assert (same.dose_mg, same.rate_mg_per_min) == (Decimal("36.7"), Decimal("0.92"))
    assert dosing.calculate_dose("iv_racemic", weight_kg="70", dose_mg_per_kg="0.7").dose_mg == (
        Decimal("49.0")
    )
