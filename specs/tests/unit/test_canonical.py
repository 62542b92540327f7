"""Canonical JSON: one document, one encoding, one digest."""

from __future__ import annotations

import pytest
from porter_specs.canonical import canonical_json, load_json
from porter_specs.errors import DocumentError


def test_key_order_does_not_change_the_bytes():
    assert canonical_json({"b": 1, "a": {"d": 2, "c": 3}}) == canonical_json(
        {"a": {"c": 3, "d": 2}, "b": 1}
    )


def test_the_encoding_has_no_insignificant_white_space():
    assert canonical_json({"a": [1, 2], "b": "x y"}) == b'{"a":[1,2],"b":"x y"}'


def test_non_ascii_is_written_as_utf8_not_escaped():
    assert canonical_json({"author": "Zoë"}) == '{"author":"Zoë"}'.encode()


def test_encoding_is_stable_through_a_parse():
    document = {"z": [{"y": None, "x": True}], "a": 1.5}
    assert canonical_json(load_json(canonical_json(document))) == canonical_json(document)


def test_invalid_json_is_one_document_error_naming_the_object():
    with pytest.raises(DocumentError, match=r"^manifest sha256:ab: invalid JSON: "):
        load_json(b"{nope", "manifest sha256:ab")


def test_invalid_utf8_is_a_document_error():
    with pytest.raises(DocumentError):
        load_json(b'{"a": "\xff"}')
