"""JSON through the C accelerator of the standard library, without importing `json`.

`import json` pulls in `re` (and with it `enum`), which costs several milliseconds at every
runtime start; the runtime's whole lifecycle budget is about 29 ms, so the hot path reads and
writes JSON through `_json` directly. Behaviour matches json.loads/json.dumps for the data
the runtime handles; anything unusual falls back to the `json` module.
"""

from __future__ import annotations

try:
    import _json
except ImportError:  # pragma: no cover - every CPython has it
    _json = None


def _no_constants(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


class _Context:
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = staticmethod(_no_constants)
    memo: dict = {}


_WS = " \t\n\r"


def loads(text: str | bytes) -> object:
    """Parse one JSON document; raises ValueError with the position on bad input."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if _json is None:  # pragma: no cover
        import json

        return json.loads(text)
    scanner = _json.make_scanner(_Context())
    idx = len(text) - len(text.lstrip(_WS))
    try:
        value, end = scanner(text, idx)
    except (StopIteration, SystemError):
        # bad input: the C scanner reports most errors through json.decoder, which it finds
        # only once imported (else SystemError), so json itself says what is wrong
        end = -1
    if end < 0 or text[end:].strip(_WS):
        import json

        return json.loads(text)  # raises json.JSONDecodeError, a ValueError
    return value


def dumps(value: object, indent: int | None = None) -> str:
    """Serialise compactly (or indented, as json.dumps(indent=...) does) with sorted keys,
    ASCII only."""
    if _json is None:  # pragma: no cover
        import json

        return json.dumps(value, indent=indent, sort_keys=True)
    encoder = _json.make_encoder(
        None, _unserialisable, _json.encode_basestring_ascii, None, ":", ",", True, False, False
    )
    if indent is None:
        return "".join(encoder(value, 0))
    return _indented(value, encoder, " " * indent, "\n")


def _indented(value: object, encoder: object, step: str, newline: str) -> str:
    """json's indented layout (the C encoder has none): one member per line, `step` deeper
    per level, empty containers as {} and []; scalars through `encoder`."""
    inner = newline + step
    if isinstance(value, dict) and value:
        members = (
            f"{_json.encode_basestring_ascii(str(key))}: {_indented(v, encoder, step, inner)}"
            for key, v in sorted(value.items())
        )
        return "{" + inner + ("," + inner).join(members) + newline + "}"
    if isinstance(value, (list, tuple)) and value:
        items = (_indented(v, encoder, step, inner) for v in value)
        return "[" + inner + ("," + inner).join(items) + newline + "]"
    return "".join(encoder(value, 0))


def _unserialisable(value: object) -> object:
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
