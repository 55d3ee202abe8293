"""Every number the engine uses is data that names its source in REFERENCE.md."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ketaclinic.pk import MODEL_CODES, get_model, route_catalog
from ketaclinic.pk.data import load_data

REFERENCE = Path(__file__).resolve().parents[3].parent / "shared" / "domain" / "REFERENCE.md"

# REFERENCE.md section 6 compartment model table, copied here so the test runs without ../shared.
PUBLISHED = {
    "domino_1984": (0.063, 0.4381, 0.5921, 0.5900, 0.2470, 0.0146),
    "clements_1981": (1.7522, 0.0109, 0.0186, 0.0, 0.0137, 0.0),
}


def parameters(code: str) -> tuple[float, ...]:
    m = get_model(code)
    return (
        m.v1_l_per_kg,
        m.k10_per_min,
        m.k12_per_min,
        m.k13_per_min,
        m.k21_per_min,
        m.k31_per_min,
    )


@pytest.mark.parametrize("code", MODEL_CODES)
def test_model_parameters_are_exactly_the_reference_table(code):
    assert parameters(code) == PUBLISHED[code]


def test_the_reference_table_still_says_what_the_data_file_says():
    if not REFERENCE.exists():
        pytest.skip("../shared/domain/REFERENCE.md is not beside the project")
    text = REFERENCE.read_text(encoding="utf-8")
    rows = {
        "domino_1984": r"\| Domino 1984[^|]*",
        "clements_1981": r"\| Clements & Nimmo 1981[^|]*",
    }
    for code, label in rows.items():
        cells = re.search(label + r"((?:\|[^|\n]*){6})", text).group(1).split("|")[1:]
        stated = tuple(0.0 if cell.strip() == "—" else float(cell) for cell in cells)
        v1, k10, k12, k13, k21, k31 = stated
        assert (v1, k10, k12, k13, k21, k31) == PUBLISHED[code]


@pytest.mark.parametrize("name", ["models", "routes"])
def test_every_entry_names_its_source_in_reference_md(name):
    for code, entry in load_data(name)[name].items():
        assert "REFERENCE.md" in entry["source"], code


def test_validated_ranges_without_a_reference_are_marked_unverified():
    for code in MODEL_CODES:
        assert get_model(code).validated.status == "[U]"


def test_route_bioavailability_lies_within_its_reference_range():
    for code, route in route_catalog().items():
        low, high = route.bioavailability_range
        assert low <= route.bioavailability <= high, code


def test_the_engine_imports_without_django():
    probe = "import sys, ketaclinic.pk; sys.exit('django' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], check=False).returncode == 0
