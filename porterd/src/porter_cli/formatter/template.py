"""A subset of Go's text/template, enough for docker's `--format` strings:
`{{.Field.Sub}}`, `{{.}}`, `{{json .X}}`, `{{.X | upper}}`, `{{index .Labels "k"}}`,
`{{join .Names ","}}`, `{{len .X}}`, `{{upper}} {{lower}} {{title}} {{println}}`,
`{{range .X}}...{{end}}`, `{{if .X}}...{{else}}...{{end}}`, and `{{- trimming -}}`.

Templates are scanned by hand rather than with `re`: every listing renders its default table
through here, and re's import (with the enum it brings) would cost `porter ps` more than the
rest of its output does. json is imported only by the templates that use it."""

from __future__ import annotations

from porter_cli.errors import CliError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NAME_CHARS = _NAME_START | frozenset("0123456789")
_FIELD_CHARS = _NAME_CHARS | {"."}


class TemplateError(CliError):
    """A --format template that cannot be parsed or applied to the data."""

    def __init__(self, template: str, reason: str) -> None:
        super().__init__(f"template error in {template!r}: {reason}")


class Missing:
    """A field a map does not have: printed as Go prints it."""

    def __str__(self) -> str:
        return "<no value>"


MISSING = Missing()


def _json(value: Any) -> str:
    import json

    return json.dumps(value, separators=(",", ":"))


def _join(value: Any, sep: Any) -> str:
    return str(sep).join(str(v) for v in value or [])


def _index(value: Any, *keys: Any) -> Any:
    for key in keys:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            return MISSING
    return value


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "json": _json,
    "upper": lambda v: str(v).upper(),
    "lower": lambda v: str(v).lower(),
    "title": lambda v: str(v).title(),
    "len": lambda v: len(v or ()),
    "index": _index,
    "join": _join,
    "println": lambda *v: " ".join(str(x) for x in v) + "\n",
    "print": lambda *v: "".join(str(x) for x in v),
}


class Node:
    __slots__ = ("body", "kind", "orelse", "text")

    def __init__(self, kind: str, text: str = "") -> None:
        self.kind = kind  # "text", "expr", "range", "if"
        self.text = text
        self.body: list[Node] = []
        self.orelse: list[Node] = []


def actions(source: str) -> Iterator[tuple[int, int, bool, str, bool]]:
    """Each `{{...}}` of `source` in order: (start, end, trims the text before, the action
    inside, trims the text after); `{{- ` and ` -}}` are the trimming markers."""
    position = 0
    while (start := source.find("{{", position)) >= 0:
        inner = start + 2
        trim_left = source[inner : inner + 1] == "-" and source[inner + 1 : inner + 2].isspace()
        if trim_left:
            inner += 2
        close = source.find("}}", inner)
        if close < 0:
            return
        stop = close
        trim_right = close - inner >= 2 and source[close - 1] == "-" and source[close - 2].isspace()
        if trim_right:
            stop -= 2
        yield start, close + 2, trim_left, source[inner:stop], trim_right
        position = close + 2


def tokens(expression: str) -> list[str] | None:
    """The words of an action: fields (`.A.B`), strings ("..." or `...`), `|`, names and
    integers; None when something else is in it."""
    found = []
    position, end = 0, len(expression)
    while True:
        while position < end and expression[position].isspace():
            position += 1
        if position == end:
            return found
        char = expression[position]
        stop = position + 1
        if char == ".":
            while stop < end and expression[stop] in _FIELD_CHARS:
                stop += 1
        elif char == '"':
            while stop < end and expression[stop] != '"':
                if expression[stop] == "\\":
                    if stop + 1 == end or expression[stop + 1] == "\n":
                        return None
                    stop += 1
                stop += 1
            if stop == end:
                return None
            stop += 1
        elif char == "`":
            stop = expression.find("`", stop) + 1
            if stop == 0:
                return None
        elif char in _NAME_START:
            while stop < end and expression[stop] in _NAME_CHARS:
                stop += 1
        elif char.isdecimal() or (char == "-" and expression[stop : stop + 1].isdecimal()):
            while stop < end and expression[stop].isdecimal():
                stop += 1
        elif char != "|":
            return None
        found.append(expression[position:stop])
        position = stop


class Template:
    def __init__(self, source: str) -> None:
        self.source = source
        self.nodes = self._parse(source)

    # -- parsing --------------------------------------------------------------------------

    def _parse(self, source: str) -> list[Node]:
        root: list[Node] = []
        stack: list[tuple[Node | None, list[Node]]] = [(None, root)]
        position = 0
        pending_trim = False
        for start, end, trim_left, inner, trim_right in actions(source):
            text = source[position:start]
            if pending_trim:
                text = text.lstrip()
            if trim_left:
                text = text.rstrip()
            if text:
                stack[-1][1].append(Node("text", text))
            position = end
            pending_trim = trim_right
            action = inner.strip()
            keyword, _, rest = action.partition(" ")
            if keyword in ("range", "if"):
                node = Node(keyword, rest.strip())
                stack[-1][1].append(node)
                stack.append((node, node.body))
            elif keyword == "else":
                owner = stack[-1][0]
                if owner is None or owner.kind != "if":
                    raise TemplateError(source, "{{else}} outside {{if}}")
                stack[-1] = (owner, owner.orelse)
            elif keyword == "end":
                if len(stack) == 1:
                    raise TemplateError(source, "unexpected {{end}}")
                stack.pop()
            else:
                self._tokens(action)  # fail early on bad syntax
                stack[-1][1].append(Node("expr", action))
        if len(stack) != 1:
            raise TemplateError(source, "missing {{end}}")
        tail = source[position:]
        if pending_trim:
            tail = tail.lstrip()
        if "{{" in tail:
            raise TemplateError(source, "unclosed action")
        if tail:
            root.append(Node("text", tail))
        return root

    def _tokens(self, expression: str) -> list[str]:
        found = tokens(expression)
        if found is None:
            raise TemplateError(self.source, f"cannot parse {expression.strip()!r}")
        if not found:
            raise TemplateError(self.source, "empty action")
        return found

    # -- execution ------------------------------------------------------------------------

    def render(self, data: Any) -> str:
        return "".join(self._run(self.nodes, data))

    def _run(self, nodes: list[Node], data: Any) -> list[str]:
        out: list[str] = []
        for node in nodes:
            if node.kind == "text":
                out.append(node.text)
            elif node.kind == "expr":
                out.append(show(self._evaluate(node.text, data)))
            elif node.kind == "range":
                items = self._evaluate(node.text, data)
                if isinstance(items, dict):
                    items = list(items.values())
                for item in items or []:
                    out.extend(self._run(node.body, item))
            else:
                branch = node.body if truthy(self._evaluate(node.text, data)) else node.orelse
                out.extend(self._run(branch, data))
        return out

    def _evaluate(self, expression: str, data: Any) -> Any:
        tokens = self._tokens(expression)
        value: Any = None
        piped = False
        commands: list[list[str]] = [[]]
        for token in tokens:
            if token == "|":
                commands.append([])
            else:
                commands[-1].append(token)
        for command in commands:
            if not command:
                raise TemplateError(self.source, "empty command in a pipeline")
            args = [self._operand(token, data) for token in command[1:]]
            head = command[0]
            if head in FUNCTIONS:
                if piped:
                    args.append(value)
                elif not args and head in ("json", "upper", "lower", "title", "len"):
                    args = [data]
                try:
                    value = FUNCTIONS[head](*args)
                except TypeError as error:
                    raise TemplateError(self.source, f"{head}: {error}") from error
            elif len(command) == 1 and not piped:
                value = self._operand(head, data)
            else:
                raise TemplateError(self.source, f"function {head!r} not defined")
            piped = True
        return value

    def _operand(self, token: str, data: Any) -> Any:
        if token.startswith('"'):
            import json

            return json.loads(token)
        if token.startswith("`"):
            return token[1:-1]
        if token.lstrip("-").isdigit():
            return int(token)
        if token.startswith("."):
            return lookup(data, token, self.source)
        raise TemplateError(self.source, f"function {token!r} not defined")


def lookup(data: Any, path: str, source: str) -> Any:
    value = data
    for name in [part for part in path.split(".") if part]:
        if isinstance(value, dict):
            if name not in value:
                if getattr(value, "strict", False):
                    raise TemplateError(source, f"can't evaluate field {name}")
                return MISSING
            value = value[name]
        elif value is None or value is MISSING:
            return MISSING
        else:
            raise TemplateError(source, f"can't evaluate field {name} in {type(value).__name__}")
    return value


def truthy(value: Any) -> bool:
    return value is not MISSING and bool(value)


def show(value: Any) -> str:
    """A value as Go's template prints it: maps and lists in Go's own notation."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{show(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, list):
        return "[" + " ".join(show(v) for v in value) + "]"
    return str(value)


class StrictRow(dict):  # type: ignore[type-arg]
    """A row of a listing: an unknown field is an error, as in docker's formatters."""

    strict = True
