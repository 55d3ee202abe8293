"""Every clinical number shipped in charting/data names its source in REFERENCE.md."""

from __future__ import annotations

import pytest
import yaml

from ketaclinic.charting.vitals import DATA_DIR

DATA_FILES = sorted(path.name for path in DATA_DIR.glob("*.yaml"))


def load(name):
    with (DATA_DIR / name).open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_the_data_files_are_the_ones_this_app_ships():
    assert DATA_FILES == [
        "administration.yaml",
        "checklist.yaml",
        "discharge.yaml",
        "dissociation.yaml",
        "monitoring_schedules.yaml",
        "plausibility_limits.yaml",
        "rems_patient_monitoring_form.yaml",
        "side_effects.yaml",
        "vital_sign_policy.yaml",
    ]


@pytest.mark.parametrize("name", DATA_FILES)
def test_each_data_file_has_a_name_a_version_and_a_source(name):
    data = load(name)

    assert data.get("name") or data.get("form")
    assert data["version"]
    if name != "administration.yaml":
        assert data["source"]


def test_every_monitoring_check_names_its_source():
    for route, schedule in load("monitoring_schedules.yaml")["schedules"].items():
        for check in schedule["checks"]:
            named = (
                "Emory ketamine service protocol, 2018",
                "NIMH ketamine trial",
                "Spravato label",
            )
            assert any(source in check["source"] for source in named), (route, check["code"])


def test_every_discharge_rule_names_its_source():
    data = load("discharge.yaml")
    sources = [c["source"] for c in data["criteria"]]
    sources += [r["source"] for r in data["minimum_observation"].values()]
    sources += [a["source"] for a in data["driving_advice"].values()]

    assert all(sources)


def test_the_administration_facts_name_the_label():
    esketamine = load("administration.yaml")["esketamine"]

    assert "label" in esketamine["device_source"]
    assert "label" in esketamine["rest_source"]
