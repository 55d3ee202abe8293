"""The coding rules of REFERENCE.md 8.1 at their boundaries, and properties over any input."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.billing import coding
from ketaclinic.billing.coding import CODE_BOOK, CodingError


def codes(lines) -> list[tuple[str, int]]:
    return [(line.code, line.units) for line in lines]


@pytest.mark.parametrize(
    ("mg", "code"),
    [
        (28, "G2082"),
        (56, "G2082"),
        ("55.99", "G2082"),
        ("56.0", "G2082"),
        ("56.1", "G2083"),
        ("56.01", "G2083"),
        (84, "G2083"),
    ],
)
def test_the_esketamine_visit_code_follows_the_delivered_dose(mg, code):
    assert codes(coding.procedure_lines("esketamine", mg)) == [(code, 1)]


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (1, [("96365", 1)]),
        (60, [("96365", 1)]),
        (89, [("96365", 1)]),
        (90, [("96365", 1)]),
        ("90.01", [("96365", 1), ("96366", 1)]),
        (91, [("96365", 1), ("96366", 1)]),
        (120, [("96365", 1), ("96366", 1)]),
        (150, [("96365", 1), ("96366", 1)]),
        (151, [("96365", 1), ("96366", 2)]),
        (210, [("96365", 1), ("96366", 2)]),
        (211, [("96365", 1), ("96366", 3)]),
    ],
)
def test_an_infusion_earns_an_add_on_only_more_than_30_minutes_past_each_hour(minutes, expected):
    assert codes(coding.procedure_lines("iv", 35, minutes)) == expected


def test_an_im_injection_is_96372():
    assert codes(coding.procedure_lines("im", 50)) == [("96372", 1)]


@pytest.mark.parametrize(
    ("route", "mg", "minutes", "field"),
    [
        ("oral", 10, None, "route"),
        ("iv", 35, None, "infusion_minutes"),
        ("iv", 35, 0, "infusion_minutes"),
        ("iv", 35, -1, "infusion_minutes"),
        ("iv", 35, float("inf"), "infusion_minutes"),
        ("iv", 35, float("nan"), "infusion_minutes"),
        ("iv", 35, 1441, "infusion_minutes"),
        ("esketamine", 0, None, "delivered_dose_mg"),
        ("esketamine", -28, None, "delivered_dose_mg"),
        ("esketamine", float("nan"), None, "delivered_dose_mg"),
        ("esketamine", 1e300, None, "delivered_dose_mg"),
        ("esketamine", None, None, "delivered_dose_mg"),
        ("esketamine", True, None, "delivered_dose_mg"),
        ("im", 0, None, "delivered_dose_mg"),
    ],
)
def test_input_the_rules_cannot_code_names_its_field(route, mg, minutes, field):
    with pytest.raises(CodingError) as refused:
        coding.procedure_lines(route, mg, minutes)

    assert refused.value.field == field


def test_the_ketamine_drug_line_is_j3490_with_mg_and_ndc():
    line = coding.drug_line("iv", "35.5", ndc="12345-678-90")

    assert (line.code, line.units, line.drug_mg, line.ndc) == (
        "J3490",
        1,
        Decimal("35.5"),
        "12345-678-90",
    )


def test_buy_and_bill_esketamine_is_s0013_with_one_unit_per_mg():
    line = coding.drug_line("esketamine", 84, supply=coding.SUPPLY_BUY_AND_BILL)

    assert (line.code, line.units) == ("S0013", 84)


def test_esketamine_the_pharmacy_bills_has_no_drug_line():
    assert coding.drug_line("esketamine", 56, supply=coding.SUPPLY_PHARMACY) is None


@pytest.mark.parametrize(
    ("new", "minutes", "code"),
    [
        (True, 14, None),
        (True, 15, "99202"),
        (True, 29, "99202"),
        (True, 30, "99203"),
        (True, 45, "99204"),
        (True, 60, "99205"),
        (True, 200, "99205"),
        (False, 9, None),
        (False, 10, "99212"),
        (False, 20, "99213"),
        (False, 30, "99214"),
        (False, 39, "99214"),
        (False, 40, "99215"),
        (True, None, None),
        (False, None, None),
    ],
)
def test_em_is_proposed_from_time_or_left_to_the_clinician(new, minutes, code):
    proposal = coding.propose_em(new, minutes)

    assert proposal.code == code
    assert proposal.needs_choice == (code is None)
    assert proposal.basis


@pytest.mark.parametrize(
    ("minutes", "code"),
    [
        (None, None),
        (15, None),
        (16, "90832"),
        (37, "90832"),
        (38, "90834"),
        (52, "90834"),
        (53, "90837"),
        (90, "90837"),
    ],
)
def test_psychotherapy_is_proposed_from_its_minutes(minutes, code):
    assert coding.propose_psychotherapy(minutes).code == code


def test_every_code_names_its_meaning_and_source():
    for code in CODE_BOOK.codes.values():
        assert code.meaning
        assert code.source
        assert code.tag in {"1st", "2nd", "U"}
    assert (
        CODE_BOOK["G2082"].source == "CMS CY2020 Physician Fee Schedule final rule; HCPCS Level II"
    )
    assert CODE_BOOK["96365"].source == "AMA CPT"
    assert set(CODE_BOOK.places_of_service) == {"11", "02", "10"}


def test_a_rule_naming_an_undefined_code_fails_at_load():
    import yaml

    data = yaml.safe_load((coding.DATA_DIR / "codes.yaml").read_text())
    data["rules"]["im_injection"]["code"] = "96999"

    with pytest.raises(ValueError, match="96999"):
        coding.CodeBook.from_mapping(data)


# --- Properties ------------------------------------------------------------------------------

minutes_st = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(1440), places=2)
mg_st = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10000), places=2)


@given(minutes_st)
def test_add_ons_count_the_hours_run_more_than_30_minutes_into(minutes):
    add_ons = coding.infusion_add_on_hours(minutes)

    # The k-th add-on needs t > 60k + 30; the next one is not yet reached.
    assert add_ons == sum(1 for k in range(1, 25) if minutes > 60 * k + 30)


@given(minutes_st, minutes_st)
def test_a_longer_infusion_never_earns_fewer_add_ons(a, b):
    short, long_ = sorted((a, b))

    assert coding.infusion_add_on_hours(short) <= coding.infusion_add_on_hours(long_)


@given(mg_st)
def test_the_esketamine_code_depends_only_on_which_side_of_56_mg(mg):
    (line,) = coding.procedure_lines("esketamine", mg)

    assert line.code == ("G2082" if mg <= 56 else "G2083")


@given(
    st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.none(), st.text())
)
def test_any_value_is_coded_or_refused_with_its_field_never_crashes(value):
    for route in coding.ROUTES:
        field, lines = None, ()
        try:
            lines = coding.procedure_lines(route, value, value)
        except CodingError as refused:
            field = refused.field
        assert field in {None, "delivered_dose_mg", "infusion_minutes"}
        assert all(line.units >= 1 for line in lines)
