"""Docker's shell-word rules: splitting an argument line into words, and expanding one word.

`split_words` keeps quotes and escapes in the words it returns (as BuildKit's `parseWords`
does for ENV, LABEL and ARG); `expand_word` then removes them while it substitutes variables,
as BuildKit's `shell.Lex.ProcessWord`: `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR-word}`,
`${VAR:+word}`, `${VAR+word}`, `${VAR:?message}` and `${VAR?message}`; single quotes keep
everything, double quotes still substitute, and an unset variable expands to nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from porter_image.dockerfile.errors import SubstitutionError

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def split_words(text: str, escape: str = "\\") -> list[str]:
    """Split on blanks outside quotes; quotes and escape characters stay in the words."""
    words: list[str] = []
    word: list[str] = []
    quote = ""
    escaped = False
    for ch in text:
        if escaped:
            word.append(ch)
            escaped = False
        elif ch == escape and quote != "'":
            word.append(ch)
            escaped = True
        elif quote:
            word.append(ch)
            if ch == quote:
                quote = ""
        elif ch in " \t\r\n":
            if word:
                words.append("".join(word))
                word = []
        else:
            if ch in "'\"":
                quote = ch
            word.append(ch)
    if word:
        words.append("".join(word))
    return words


def expand_word(word: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """The word with its quotes and escapes removed and its variables substituted."""
    return _Expander(word, env, escape).until("")


def expand_text(text: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """Variables substituted in a heredoc body; quotes are text there and stay."""
    return _Expander(text, env, escape, quotes=False).until("")


class _Expander:
    def __init__(self, word: str, env: Mapping[str, str], escape: str, quotes: bool = True) -> None:
        self.word = word
        self.quotes = quotes
        self.env = env
        self.escape = escape
        self.pos = 0

    def peek(self) -> str:
        return self.word[self.pos] if self.pos < len(self.word) else ""

    def next(self) -> str:
        ch = self.peek()
        self.pos += 1 if ch else 0
        return ch

    def until(self, stop: str) -> str:
        out: list[str] = []
        while True:
            ch = self.peek()
            if not ch:
                if stop:
                    raise SubstitutionError(self.word, f"missing {stop!r}")
                return "".join(out)
            if ch == stop:
                self.next()
                return "".join(out)
            self.next()
            if ch == "'" and self.quotes:
                out.append(self.single_quoted())
            elif ch == '"' and self.quotes:
                out.append(self.double_quoted())
            elif ch == "$":
                out.append(self.dollar())
            elif ch == self.escape and (self.quotes or self.peek() in ("$", self.escape)):
                out.append(self.next())
            else:
                out.append(ch)

    def single_quoted(self) -> str:
        end = self.word.find("'", self.pos)
        if end < 0:
            raise SubstitutionError(self.word, "unterminated single quote")
        text = self.word[self.pos : end]
        self.pos = end + 1
        return text

    def double_quoted(self) -> str:
        out: list[str] = []
        while True:
            ch = self.next()
            if not ch:
                raise SubstitutionError(self.word, "unterminated double quote")
            if ch == '"':
                return "".join(out)
            if ch == "$":
                out.append(self.dollar())
            elif ch == self.escape and self.peek() in ('"', "$", self.escape) and self.peek():
                out.append(self.next())
            else:
                out.append(ch)

    def name(self) -> str:
        start = self.pos
        while self.peek() and self.peek() in _NAME_CHARS:
            self.pos += 1
        return self.word[start : self.pos]

    def dollar(self) -> str:
        if self.peek() != "{":
            name = self.name()
            return self.env.get(name, "") if name else "$"
        self.next()
        name = self.name()
        if not name:
            raise SubstitutionError(self.word, "bad substitution")
        op = self.next()
        if op == "}":
            return self.env.get(name, "")
        colon = op == ":"
        if colon:
            op = self.next()
        if op not in ("-", "+", "?"):
            raise SubstitutionError(self.word, f"unsupported modifier {op!r} in ${{{name}...}}")
        word = self.until("}")
        value = self.env.get(name)
        is_set = value is not None and (value != "" or not colon)
        if op == "-":
            return value if is_set and value is not None else word
        if op == "+":
            return word if is_set else ""
        if not is_set:
            raise SubstitutionError(self.word, f"{name}: {word or 'is not allowed to be unset'}")
        return value or ""
