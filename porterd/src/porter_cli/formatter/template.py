"""A subset of Go's text/template, enough for docker's `--format` strings:
`{{.Field.Sub}}`, `{{.}}`, `{{json .X}}`, `{{.X | upper}}`, `{{index .Labels "k"}}`,
`{{join .Names ","}}`, `{{len .X}}`, `{{upper}} {{lower}} {{title}} {{println}}`,
`{{range .X}}...{{end}}`, `{{if .X}}...{{else}}...{{end}}`, and `{{- trimming -}}`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from porter_cli.errors import CliError

_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)
_TOKEN = re.compile(
    r'\s*(\.[A-Za-z0-9_.]*|"(?:[^"\\]|\\.)*"|`[^`]*`|\||[A-Za-z_][A-Za-z0-9_]*|-?\d+)'
)


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


@dataclass
class Node:
    kind: str  # "text", "expr", "range", "if"
    text: str = ""
    body: list[Node] = field(default_factory=list)
    orelse: list[Node] = field(default_factory=list)


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
        for match in _ACTION.finditer(source):
            text = source[position : match.start()]
            if pending_trim:
                text = text.lstrip()
            if match.group(1):
                text = text.rstrip()
            if text:
                stack[-1][1].append(Node("text", text))
            position = match.end()
            pending_trim = bool(match.group(3))
            action = match.group(2).strip()
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
        tokens = []
        position = 0
        expression = expression.rstrip()
        while position < len(expression):
            match = _TOKEN.match(expression, position)
            if not match:
                raise TemplateError(self.source, f"cannot parse {expression[position:]!r}")
            tokens.append(match.group(1))
            position = match.end()
        if not tokens:
            raise TemplateError(self.source, "empty action")
        return tokens

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
