"""The API's JSON reader refuses what no field can hold and names where it is."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketaclinic.web import inputs


def refusal(raw: str) -> inputs.InvalidInput:
    with pytest.raises(inputs.InvalidInput) as refused:
        inputs.load_json(raw)
    return refused.value


def test_ordinary_json_reads_as_json():
    assert inputs.load_json(b'{"readings": [{"spo2_pct": 97, "t": 36.6}], "ok": true}') == {
        "readings": [{"spo2_pct": 97, "t": 36.6}],
        "ok": True,
    }


def test_nesting_past_the_parser_recursion_limit_is_refused():
    problem = refusal("[" * 20_000 + "]" * 20_000)

    assert problem.field == ""
    assert "nested too deeply" in problem.message


def test_nesting_past_the_depth_limit_names_the_path_where_it_stops():
    depth = inputs.MAX_JSON_DEPTH + 1
    problem = refusal('{"a": ' + "[" * depth + "]" * depth + "}")

    assert problem.field == "a" + ".0" * (inputs.MAX_JSON_DEPTH - 1)


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "-1e999"])
def test_numbers_that_are_not_finite_are_named(number):
    problem = refusal(f'{{"doses": [{{"dose_mg": {number}}}]}}')

    assert (problem.field, problem.message) == ("doses.0.dose_mg", "must be a finite number")


@pytest.mark.parametrize("number", [str(2**63), str(-(2**63) - 1), "1e19", "9" * 5000, "-1.5e300"])
def test_numbers_beyond_a_64_bit_column_are_named(number):
    problem = refusal(f'{{"offset": {number}}}')

    assert (problem.field, problem.message) == ("offset", inputs.OUT_OF_RANGE)


@pytest.mark.parametrize("number", [str(2**63 - 1), str(-(2**63)), "1e18", "5e-324"])
def test_numbers_inside_64_bits_are_kept(number):
    assert inputs.load_json(f"[{number}]") == [json.loads(number)]


def test_nul_in_a_value_or_a_key_is_named_printably():
    in_value = refusal(json.dumps({"reason": "a\x00b"}))
    in_key = refusal(json.dumps({"rea\x00son": "ab"}))

    assert in_value.field == "reason"
    assert "NUL" in in_value.message
    assert in_key.field == "rea\\x00son"
    assert "\x00" not in str(in_key)


def test_a_lone_surrogate_is_refused_and_a_pair_is_kept():
    assert "Unicode" in refusal('{"name": "\\udc00"}').message
    assert inputs.load_json('{"name": "\\ud83d\\ude00"}') == {"name": "\U0001f600"}


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe", b"", b"[1,]"])
def test_text_that_is_not_json_is_refused(raw):
    assert refusal(raw).message == "The body is not valid JSON."


def test_numbers_can_be_left_to_the_caller():
    document = inputs.load_json('[NaN, 1e400, 99999999999999999999, "x"]', check_numbers=False)

    assert math.isnan(document[0])
    assert document[1] == math.inf
    assert document[2] == 99999999999999999999
    with pytest.raises(inputs.InvalidInput):
        inputs.load_json('["\\u0000"]', check_numbers=False)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=30,
)


@given(json_values)
def test_any_json_document_reads_back_or_is_refused_with_a_storable_field(value):
    raw = json.dumps(value)
    problem = None
    try:
        document = inputs.load_json(raw)
    except inputs.InvalidInput as refused:
        problem = refused
    if problem is None:
        assert document == json.loads(raw)
    else:
        assert "\x00" not in problem.field
        problem.field.encode("utf-8")  # no lone surrogate: the audit trail can store it
