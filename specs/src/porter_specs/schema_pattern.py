"""The schemas' `pattern`s, matched without importing `re` where they are simple enough.

`re` (with `enum`) costs some 4 ms to import, most of what checking a runtime config would
cost porter-runtime create. `compile_pattern` reads the part of the regular expression syntax
the schemas use (literals, escapes, classes with ranges and negation, `\\d`, groups,
alternation, `* + ? {m} {m,} {m,n}`, a leading `^` and a final `$`) into a small NFA whose
`search` says what `re.search` says of the same pattern with an ECMA-262 final `$`
(`ecma_regex`). Anything else (lookarounds, `.`, backreferences, flags...) is left to `re`.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at every runtime start
    from collections.abc import Callable
    from re import Pattern

    CharTest = Callable[[str], bool]
    # a character as the NFA reads it: itself, "\\d", or ("class", negated, ranges, decimal)
    CharSpec = str | tuple[str, bool, tuple[tuple[str, str], ...], bool]
    Table = tuple[bool, bool, int, tuple[tuple, ...]]

_compiled: dict[str, Matcher | Pattern[str]] = {}
_ecma: dict[str, Pattern[str]] = {}


class Unsupported(Exception):
    """The pattern uses syntax this module does not read."""


def compile_pattern(pattern: str, table: Table | None = None) -> Matcher | Pattern[str]:
    """An object whose `search(text)` is truthy exactly when re.search of the ECMA-262 reading
    of `pattern` finds a match: `re`'s once something has imported it (it is faster), else this
    module's matcher where it can read the pattern, built from `table` (its `Matcher.table()`,
    saved beforehand) when given."""
    compiled = _compiled.get(pattern)
    if compiled is None:
        if "re" in sys.modules:
            compiled = ecma_regex(pattern)
        elif table is not None:
            compiled = Matcher.from_table(table)
        else:
            compiled = _matcher(pattern) or ecma_regex(pattern)
        _compiled[pattern] = compiled
    return compiled


def patterns_in(schema: object) -> set[str]:
    """Every `pattern` of a schema (or of any JSON value holding schemas)."""
    if isinstance(schema, dict):
        found = {schema["pattern"]} if isinstance(schema.get("pattern"), str) else set()
        return found.union(*(patterns_in(v) for v in schema.values()))
    if isinstance(schema, list):
        return set().union(*(patterns_in(v) for v in schema))
    return set()


def _matcher(pattern: str) -> Matcher | None:
    try:
        return Matcher(pattern)
    except Unsupported:
        return None


def ecma_regex(pattern: str) -> Pattern[str]:
    """Compile an ECMA-262 pattern with `re`: a final `$` matches only at the end, not before a
    newline."""
    compiled = _ecma.get(pattern)
    if compiled is None:
        import re

        body = pattern[:-1]
        source = pattern
        if pattern.endswith("$") and (len(body) - len(body.rstrip("\\"))) % 2 == 0:
            source = body + r"\Z"
        compiled = _ecma[pattern] = re.compile(source)
    return compiled


# An NFA state: ("char", test, next, spec), ("split", first, second) or ("match",); states
# are indexes into Matcher.states, -1 a hole to patch.


class Matcher:
    """A pattern of the simple syntax as a Thompson NFA, run over a text in one pass."""

    def __init__(self, pattern: str) -> None:
        self.anchored_start = pattern.startswith("^")
        body = pattern[1:] if self.anchored_start else pattern
        rest = body[:-1]
        self.anchored_end = body.endswith("$") and (len(rest) - len(rest.rstrip("\\"))) % 2 == 0
        body = rest if self.anchored_end else body
        parser = _Parser(body)
        tree = parser.alternation()
        if parser.pos != len(body):
            raise Unsupported(pattern)
        if tree[0] == "alt" and (self.anchored_start or self.anchored_end):
            raise Unsupported(pattern)  # ^a|b$: the anchors bind to one alternative only
        self.states: list[list] = []
        start, holes = self._build(tree)
        self._patch(holes, self._add(["match"]))
        self.start = start
        self._ready()

    @classmethod
    def from_table(cls, table: Table) -> Matcher:
        """The matcher whose `table()` this is, built without reading the pattern again."""
        matcher = cls.__new__(cls)
        matcher.anchored_start, matcher.anchored_end, matcher.start, states = table
        matcher.states = [
            ["char", _test_of(state[1]), state[2], state[1]] if state[0] == "char" else [*state]
            for state in states
        ]
        matcher._ready()
        return matcher

    def table(self) -> Table:
        """The NFA as plain values, which a module can hold as a literal."""
        states = tuple(
            ("char", state[3], state[2]) if state[0] == "char" else tuple(state)
            for state in self.states
        )
        return (self.anchored_start, self.anchored_end, self.start, states)

    def _ready(self) -> None:
        self._sets: list[frozenset[int]] = []
        self._numbers: dict[frozenset[int], int] = {}
        self._steps: list[dict[str, int]] = []
        self._final: list[bool] = []
        self._number(self._closure({self.start}))  # set 0: where every search begins
        self._dead = self._number(set())

    def search(self, text: str) -> bool:
        """Run the NFA as a DFA built as the texts need it: each set of NFA states met is
        numbered once, and its step on a character is remembered, so a pattern met many
        times (every capability of a config) costs a dictionary lookup per character."""
        steps, final, anchored_end = self._steps, self._final, self.anchored_end
        current = 0
        for char in text:
            if not anchored_end and final[current]:
                return True
            following = steps[current].get(char)
            if following is None:
                following = steps[current][char] = self._step(current, char)
            if following == self._dead:
                return False
            current = following
        return final[current]

    def _step(self, current: int, char: str) -> int:
        """The number of the set of states one character leads to from set `current`."""
        states = self.states
        following = {
            s[2] for s in (states[i] for i in self._sets[current]) if s[0] == "char" and s[1](char)
        }
        if not self.anchored_start:
            following.add(self.start)
        return self._number(self._closure(following))

    def _number(self, found: set[int]) -> int:
        key = frozenset(found)
        number = self._numbers.get(key)
        if number is None:
            number = self._numbers[key] = len(self._sets)
            self._sets.append(key)
            self._steps.append({})
            self._final.append(any(self.states[i][0] == "match" for i in key))
        return number

    def _closure(self, indexes: set[int]) -> set[int]:
        found = set()
        pending = list(indexes)
        while pending:
            index = pending.pop()
            if index in found:
                continue
            found.add(index)
            state = self.states[index]
            if state[0] == "split":
                pending += (state[1], state[2])
        return found

    def _add(self, state: list) -> int:
        self.states.append(state)
        return len(self.states) - 1

    def _patch(self, holes: list[tuple[int, int]], target: int) -> None:
        for index, slot in holes:
            self.states[index][slot] = target

    def _build(self, node: tuple) -> tuple[int, list[tuple[int, int]]]:
        """The start state and the dangling exits of the fragment for `node`."""
        kind = node[0]
        if kind == "char":
            index = self._add(["char", _test_of(node[1]), -1, node[1]])
            return index, [(index, 2)]
        if kind == "seq":
            if not node[1]:
                raise Unsupported("an empty sequence")
            start, holes = self._build(node[1][0])
            for part in node[1][1:]:
                part_start, part_holes = self._build(part)
                self._patch(holes, part_start)
                holes = part_holes
            return start, holes
        if kind == "alt":
            first, first_holes = self._build(node[1])
            second, second_holes = self._build(node[2])
            return self._add(["split", first, second]), first_holes + second_holes
        if kind == "star":
            split = self._add(["split", -1, -1])
            inner, inner_holes = self._build(node[1])
            self.states[split][1] = inner
            self._patch(inner_holes, split)
            return split, [(split, 2)]
        if kind == "optional":
            inner, inner_holes = self._build(node[1])
            split = self._add(["split", inner, -1])
            return split, [*inner_holes, (split, 2)]
        raise Unsupported(kind)


class _Parser:
    """Reads the simple syntax into a tree of ("char", spec), ("seq", parts),
    ("alt", a, b), ("star", x), ("optional", x)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def alternation(self) -> tuple:
        tree = self.sequence()
        while self._peek() == "|":
            self.pos += 1
            tree = ("alt", tree, self.sequence())
        return tree

    def sequence(self) -> tuple:
        parts = []
        while self._peek() not in ("", "|", ")"):
            parts.extend(self.repeat())
        return ("seq", parts)

    def repeat(self) -> list[tuple]:
        atom = self.atom()
        char = self._peek()
        if char in ("*", "+", "?"):
            self.pos += 1
            low, high = {"*": (0, None), "+": (1, None), "?": (0, 1)}[char]
        elif char == "{":
            low, high = self._counts()
        else:
            return [atom]
        if self._peek() in ("?", "+", "*", "{"):
            raise Unsupported("a lazy or doubled quantifier")
        parts = [atom] * low
        if high is None:
            parts.append(("star", atom))
        else:
            parts += [("optional", atom)] * (high - low)
        return parts

    def _counts(self) -> tuple[int, int | None]:
        end = self.text.find("}", self.pos)
        inside = self.text[self.pos + 1 : end] if end > 0 else ""
        low, comma, high = inside.partition(",")
        if not low.isascii() or not low.isdigit() or (high and not high.isdigit()):
            raise Unsupported("{" + inside)
        self.pos = end + 1
        bounds = (int(low), int(high) if high else (None if comma else int(low)))
        if (bounds[1] is not None and bounds[1] < bounds[0]) or max(
            bounds[0], bounds[1] or 0
        ) > 1000:
            raise Unsupported("{" + inside)
        return bounds

    def atom(self) -> tuple:
        char = self._peek()
        self.pos += 1
        if char == "(":
            if self.text.startswith("?:", self.pos):
                self.pos += 2
            elif self._peek() == "?":
                raise Unsupported("(?")
            tree = self.alternation()
            if self._peek() != ")":
                raise Unsupported("an unclosed group")
            self.pos += 1
            return tree
        if char == "[":
            return ("char", self._class())
        if char == "\\":
            return ("char", self._escape())
        if char in ("", ".", "^", "$", ")", "*", "+", "?", "{", "}", "]"):
            raise Unsupported(char)
        return ("char", char)

    def _escape(self) -> CharSpec:
        char = self._peek()
        self.pos += 1
        if char == "d":
            return "\\d"
        if char == "n":
            return "\n"
        if char and not char.isalnum() and char.isascii():
            return char
        raise Unsupported("\\" + char)

    def _class(self) -> CharSpec:
        negated = self._peek() == "^"
        self.pos += negated
        if self._peek() == "]":
            raise Unsupported("[]")
        decimal = False
        ranges: list[tuple[str, str]] = []
        while self._peek() != "]":
            char = self._peek()
            if not char or char == "[":
                raise Unsupported("[")
            self.pos += 1
            if char == "\\":
                char = self._escape()
                if char == "\\d":
                    decimal = True
                    continue
            if self._peek() == "-" and self.text[self.pos + 1 : self.pos + 2] not in ("]", ""):
                high = self.text[self.pos + 1]
                if high in ("\\", "[") or high < char:
                    raise Unsupported("a range")
                self.pos += 2
                ranges.append((char, high))
            else:
                ranges.append((char, char))
        self.pos += 1
        return ("class", negated, tuple(ranges), decimal)


def _test_of(spec: CharSpec) -> CharTest:
    """The test of a character against `spec`."""
    if isinstance(spec, tuple):
        _, negated, ranges, decimal = spec

        def test(c: str) -> bool:
            inside = any(low <= c <= high for low, high in ranges) or (decimal and c.isdecimal())
            return inside is not negated

        return test
    if spec == "\\d":
        return str.isdecimal  # re's \d of a str pattern: Unicode decimal digits
    return spec.__eq__
