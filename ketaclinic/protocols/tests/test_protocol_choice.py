"""A new plan starts on the protocol whose label names the screened indication, else on the
route's default: a rule kept in the catalog's data (each protocol's ``indications``), chosen by
one pure function over the shipped catalog and over the clinic's database rows alike."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ketaclinic.protocols import catalog
from ketaclinic.protocols.choice import choose_protocol, labelled_for
from ketaclinic.protocols.models import Protocol

ROUTE_DEFAULTS = {
    "iv": "iv_racemic",
    "im": "im_racemic",
    "esketamine": "esketamine_trd",
    "sublingual": "sublingual_racemic",
    "oral": "oral_racemic",
}


def shipped_choice(route: str, indication: str):
    default = catalog.get_protocol(ROUTE_DEFAULTS[route])
    return choose_protocol(catalog.protocols(), route=route, indication=indication, default=default)


def test_esketamine_for_suicidal_ideation_starts_on_its_own_labelled_protocol():
    choice = shipped_choice("esketamine", "mdd_suicidal_ideation")

    assert choice.protocol.code == "esketamine_mdsi"
    assert choice.labelled
    # The choice rests on the label, which the chosen protocol cites among its sources.
    assert any("label" in source.lower() for source in choice.protocol.sources)


def test_esketamine_for_treatment_resistant_depression_starts_on_the_trd_label():
    choice = shipped_choice("esketamine", "trd")

    assert choice.protocol.code == "esketamine_trd"
    assert choice.labelled


@pytest.mark.parametrize("indication", ["ptsd", "anxiety", "chronic_pain", "ocd"])
def test_esketamine_for_an_indication_no_label_names_falls_back_to_the_default(indication):
    choice = shipped_choice("esketamine", indication)

    assert choice.protocol.code == "esketamine_trd"
    assert not choice.labelled


@pytest.mark.parametrize("route", ["iv", "im", "sublingual", "oral"])
@pytest.mark.parametrize("indication", catalog.INDICATIONS)
def test_racemic_routes_always_start_on_their_default(route, indication):
    choice = shipped_choice(route, indication)

    assert choice.protocol.code == ROUTE_DEFAULTS[route]
    assert not choice.labelled


def test_a_protocol_of_another_route_is_never_chosen():
    mdsi = catalog.get_protocol("esketamine_mdsi")

    choice = choose_protocol([mdsi], route="iv", indication="mdd_suicidal_ideation", default=None)

    assert choice is None


def test_without_a_labelled_protocol_or_a_default_there_is_no_choice():
    assert choose_protocol([], route="esketamine", indication="trd", default=None) is None


def test_an_unrestricted_protocol_is_not_labelled_for_anything():
    iv = catalog.get_protocol("iv_racemic")

    assert iv.indications is None
    assert not labelled_for(iv, "trd")


def test_the_choice_follows_the_data_not_the_code():
    relabelled = replace(catalog.get_protocol("esketamine_trd"), indications=("ptsd",))

    choice = choose_protocol([relabelled], route="esketamine", indication="ptsd", default=None)

    assert choice.protocol is relabelled
    assert choice.labelled


# --- The clinic's database copy ---------------------------------------------------------------


def test_the_database_picks_the_suicidal_ideation_protocol_for_esketamine(db):
    chosen = Protocol.objects.chosen_for("esketamine", "mdd_suicidal_ideation")

    assert chosen.code == "esketamine_mdsi"


@pytest.mark.parametrize("route", sorted(ROUTE_DEFAULTS))
def test_the_database_otherwise_picks_the_routes_default(db, route):
    assert Protocol.objects.chosen_for(route, "trd").code == ROUTE_DEFAULTS[route]


def test_a_retired_labelled_protocol_gives_way_to_the_default(db):
    Protocol.objects.filter(code="esketamine_mdsi").update(active=False)

    chosen = Protocol.objects.chosen_for("esketamine", "mdd_suicidal_ideation")

    assert chosen.code == "esketamine_trd"


def test_a_route_the_clinic_has_retired_has_no_choice(db):
    Protocol.objects.filter(route="im").update(active=False)

    assert Protocol.objects.chosen_for("im", "trd") is None


def test_the_database_choice_costs_one_query(db, django_assert_num_queries):
    with django_assert_num_queries(1):
        Protocol.objects.chosen_for("esketamine", "mdd_suicidal_ideation")
