"""jsonio reads and writes JSON exactly as the json module does, without importing it."""

from __future__ import annotations

import json

import pytest
from porter_runtime import jsonio

SAMPLES = [
    {"ociVersion": "1.2.0", "id": "c1", "pid": 42, "status": "running", "bundle": "/b"},
    {"b": [1, 2, {"x": None, "a": True}], "a": {}, "c": [], "d": 'é"\n', "e": 1.5},
    {"nested": {"deeper": [[], [{}], [1, [2, [3]]]]}},
    [],
    {},
    "text",
    0,
]


@pytest.mark.parametrize("value", SAMPLES)
def test_compact_output_is_json_dumps_with_sorted_keys(value):
    assert jsonio.dumps(value) == json.dumps(value, sort_keys=True, separators=(",", ":"))


@pytest.mark.parametrize("indent", [2, 4])
@pytest.mark.parametrize("value", SAMPLES)
def test_indented_output_is_json_dumps_indented(value, indent):
    assert jsonio.dumps(value, indent=indent) == json.dumps(value, indent=indent, sort_keys=True)


@pytest.mark.parametrize("value", SAMPLES)
def test_loads_reads_what_dumps_wrote(value):
    assert jsonio.loads(jsonio.dumps(value, indent=2)) == value


@pytest.mark.parametrize("text", ["{", "[1,]", '{"a": [1,}', "{} x", ""])
def test_bad_json_is_a_value_error_that_says_where(text):
    with pytest.raises(ValueError, match=r"\(char \d+\)"):  # where it went wrong
        jsonio.loads(text)


def test_nan_and_infinity_are_refused_where_json_would_take_them():
    with pytest.raises(ValueError, match="NaN is not valid JSON"):
        jsonio.loads('{"a": NaN}')


def test_a_value_json_cannot_hold_is_a_type_error():
    with pytest.raises(TypeError, match="set is not JSON serialisable"):
        jsonio.dumps({"a": {1, 2}})
