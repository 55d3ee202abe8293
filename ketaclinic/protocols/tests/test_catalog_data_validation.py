"""A malformed catalog data file is refused at load time, naming the problem."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import pytest
import yaml

from ketaclinic.protocols import catalog
from ketaclinic.protocols.catalog import CatalogError

DATA = Path(str(resources.files("ketaclinic.protocols").joinpath("data")))


@pytest.fixture
def data_dir(tmp_path):
    for name in ("protocols.yaml", "schedules.yaml", "dosing_policy.yaml"):
        shutil.copy(DATA / name, tmp_path / name)
    return tmp_path


def _edit(directory, name, mutate):
    path = directory / name
    document = yaml.safe_load(path.read_text())
    mutate(document)
    path.write_text(yaml.safe_dump(document))


def _protocol(document, code):
    return next(p for p in document["protocols"] if p["code"] == code)


def _refused(directory) -> str:
    with pytest.raises(CatalogError) as caught:
        catalog.load_catalog(directory)
    return str(caught.value)


def test_a_copy_of_the_shipped_data_loads(data_dir):
    assert catalog.load_catalog(data_dir) == catalog.catalog()


def test_a_default_dose_outside_the_allowed_range_is_refused(data_dir):
    _edit(
        data_dir,
        "protocols.yaml",
        lambda d: _protocol(d, "iv_racemic")["dose"]["default_mg_per_kg"].update(max=1.5),
    )
    assert "must lie inside allowed_mg_per_kg" in _refused(data_dir)


def test_a_range_without_sources_is_refused(data_dir):
    _edit(
        data_dir,
        "protocols.yaml",
        lambda d: _protocol(d, "im_racemic")["dose"]["allowed_mg_per_kg"].pop("sources"),
    )
    assert "sources" in _refused(data_dir)


def test_a_range_with_min_above_max_is_refused(data_dir):
    _edit(
        data_dir,
        "protocols.yaml",
        lambda d: _protocol(d, "iv_racemic")["infusion"]["allowed_minutes"].update(min=70),
    )
    assert "allowed_minutes.min: is above max" in _refused(data_dir)


def test_esketamine_for_home_use_is_refused(data_dir):
    _edit(
        data_dir,
        "protocols.yaml",
        lambda d: _protocol(d, "esketamine_trd").update(home_use_allowed=True),
    )
    assert "never dispensed for home use" in _refused(data_dir)


def test_an_esketamine_dose_that_is_not_whole_devices_is_refused(data_dir):
    _edit(
        data_dir,
        "protocols.yaml",
        lambda d: _protocol(d, "esketamine_trd")["dose"].update(allowed_doses_mg=[28, 56, 70]),
    )
    assert "multiples of 28 mg" in _refused(data_dir)


def test_a_misspelt_key_is_refused(data_dir):
    _edit(data_dir, "protocols.yaml", lambda d: _protocol(d, "oral_racemic").update(hom_use=True))
    assert "unknown keys ['hom_use']" in _refused(data_dir)


def test_an_unknown_course_schedule_is_refused(data_dir):
    _edit(
        data_dir,
        "protocols.yaml",
        lambda d: _protocol(d, "im_racemic").update(course_schedules=["im_titration"]),
    )
    assert "im_titration" in _refused(data_dir)


def test_schedule_phases_with_a_gap_are_refused(data_dir):
    def mutate(document):
        document["schedules"][2]["phases"][1]["from_week"] = 6

    _edit(data_dir, "schedules.yaml", mutate)
    assert "expected week 5" in _refused(data_dir)


def test_a_duplicate_protocol_code_is_refused(data_dir):
    _edit(data_dir, "protocols.yaml", lambda d: d["protocols"].append(d["protocols"][0]))
    assert "duplicate protocol code 'iv_racemic'" in _refused(data_dir)


def test_a_weight_limit_that_is_not_a_number_is_refused(data_dir):
    _edit(data_dir, "dosing_policy.yaml", lambda d: d["weight_kg"].update(min="thirty"))
    assert "weight_kg.min" in _refused(data_dir)


def test_invalid_yaml_is_refused(data_dir):
    (data_dir / "schedules.yaml").write_text("schedules: [unclosed\n")
    assert "not valid YAML" in _refused(data_dir)
