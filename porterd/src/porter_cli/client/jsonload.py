"""JSON decoding without the json package: the interpreter's own C scanner (`_json`, what
json.loads runs underneath), given the settings json.loads gives it.

Importing json costs `porter ps` as much as its request to the daemon does, nearly all of
it `re` (json.decoder and json.encoder compile patterns at import, and re's compiler imports
enum); the answers the CLI reads, and its config files, need only the scanner. Writing JSON
(request bodies, config files) still uses json, imported where it is written."""

from __future__ import annotations

from _json import make_scanner

TYPE_CHECKING = False  # typing's own import costs what json's would
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_WHITESPACE = " \t\n\r"
_CONSTANTS = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}


class _Settings:
    """json.loads's defaults, as the scanner reads them."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant: Callable[[str], float] = staticmethod(_CONSTANTS.__getitem__)


_scan = make_scanner(_Settings())


def loads(document: str | bytes) -> Any:
    """The value of one JSON document (UTF-8 when bytes); ValueError when it is not one, as
    json.loads raises (json.JSONDecodeError is a ValueError)."""
    text = document.decode("utf-8") if isinstance(document, bytes) else document
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        value, end = _scan(text, start)
    except StopIteration as stop:
        raise ValueError(f"expecting a JSON value at character {stop.value}") from None
    if text[end:].strip(_WHITESPACE):
        raise ValueError(f"extra data after the JSON value at character {end}")
    return value
