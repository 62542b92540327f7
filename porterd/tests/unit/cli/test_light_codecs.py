"""The client's own URL escaping and JSON reading and writing (porter_cli.client.api,
porter_cli.client.jsonload) give what urllib.parse and json give, which they stand in for on
the listings' start-up path."""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import pytest
from porter_cli.client.api import compact_json, encode_params, path_part
from porter_cli.client.jsonload import loads

TEXTS = ["web", "a b", "x/y:z@w", "ünï cødé", "100%&=+?#", "~_.-", "tab\there", "😀", ""]
DOCUMENTS = [
    '{"Id": "abc", "Names": ["/web"], "Ports": [], "SizeRw": null, "Created": 1700000000}',
    ' [1, -2.5e3, true, false, null, "\\u00e9\\n", {"": {}}] \n',
    '"plain"',
    "NaN",
    "-Infinity",
    "0",
]


@pytest.mark.parametrize("text", TEXTS)
def test_a_path_part_is_escaped_as_urllib_quotes_it(text: str) -> None:
    assert path_part(text) == quote(text, safe=":@")


@pytest.mark.parametrize("text", TEXTS)
def test_a_query_is_encoded_as_urlencode_encodes_it(text: str) -> None:
    params = {"name": text, text or "empty": [text, "2"]}
    pairs = [("name", text), (text or "empty", text), (text or "empty", "2")]
    assert encode_params(params) == "?" + urlencode(pairs)


@pytest.mark.parametrize(
    "value",
    [
        {},
        {"status": ["exited", "running"]},
        {"label": ['a="b"', "é\\\n\u2028", "\ud83d\ude00"], "name": []},
        {"dangling": True, "until": 3},  # not a filters map: json writes it
    ],
)
def test_a_map_in_a_query_is_the_compact_json_of_it(value: dict[str, object]) -> None:
    assert compact_json(value) == json.dumps(value, separators=(",", ":"))  # type: ignore[arg-type]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_an_answer_reads_as_json_loads_reads_it(document: str) -> None:
    # compared written out again, as NaN is not equal to itself
    assert json.dumps(loads(document.encode())) == json.dumps(json.loads(document))


@pytest.mark.parametrize("document", ["", "  ", "{", "[1,]", "1 2", '{"a": 1}x', "nul", "'a'"])
def test_what_is_not_one_json_document_is_a_value_error(document: str) -> None:
    with pytest.raises(ValueError):
        json.loads(document)
    with pytest.raises(ValueError):
        loads(document)
