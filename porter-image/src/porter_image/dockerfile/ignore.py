"""`.dockerignore`: which context paths the build may not see (moby/patternmatcher's rules).

Each line is a Go `filepath.Match` pattern over slash-separated paths relative to the context
(a leading `/` is dropped, the pattern is cleaned); `**` matches any number of folders; a line
starting with `!` makes an exception; `#` starts a comment line. The last pattern that matches
a path, or any of its parent folders, decides.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from porter_image.dockerfile.errors import IgnorePatternError


@dataclass(frozen=True)
class Pattern:
    text: str
    exclusion: bool
    regex: re.Pattern[str]


def translate(pattern: str) -> str:
    """A filepath.Match pattern (with `**`) as a regular expression over slash paths."""
    out = ["^"]
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        i += 1
        if ch == "*":
            if pattern[i : i + 1] == "*":
                i += 1
                if pattern[i : i + 1] == "/":
                    i += 1
                out.append(".*" if i >= len(pattern) else "(.*/)?")
            else:
                out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\":
            if i >= len(pattern):
                raise IgnorePatternError(pattern, "trailing backslash")
            out.append(re.escape(pattern[i]))
            i += 1
        elif ch == "[":
            end = pattern.find("]", i + 1 if pattern[i : i + 1] in ("!", "^") else i)
            if end < 0:
                raise IgnorePatternError(pattern, "unterminated character class")
            body = pattern[i:end]
            i = end + 1
            negate = body[:1] in ("!", "^")
            body = body[1:] if negate else body
            if not body:
                raise IgnorePatternError(pattern, "empty character class")
            escaped = "".join("\\" + c if c in "\\[]^" else c for c in body)
            out.append(("[^/" if negate else "[") + escaped + "]")
        else:
            out.append(re.escape(ch))
    out.append("$")
    return "".join(out)


def compile_glob(pattern: str) -> re.Pattern[str]:
    """`translate(pattern)` compiled; IgnorePatternError when it is not a valid pattern."""
    try:
        return re.compile(translate(pattern), re.DOTALL)
    except re.error as exc:
        raise IgnorePatternError(pattern, str(exc)) from exc


def compile_patterns(lines: list[str]) -> tuple[Pattern, ...]:
    """The patterns of a .dockerignore's lines, in order."""
    patterns = []
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
            if not line:
                raise IgnorePatternError("!", "illegal exclusion pattern")
        text = posixpath.normpath(line).lstrip("/") or "."
        if text == ".":
            continue
        patterns.append(Pattern(text, exclusion, compile_glob(text)))
    return tuple(patterns)


class IgnoreRules:
    """The compiled .dockerignore of a context."""

    def __init__(self, patterns: tuple[Pattern, ...] = ()) -> None:
        self.patterns = patterns
        self.has_exceptions = any(p.exclusion for p in patterns)

    @classmethod
    def from_text(cls, text: str) -> IgnoreRules:
        return cls(compile_patterns(text.splitlines()))

    @classmethod
    def for_context(cls, context: Path, dockerfile: Path | None = None) -> IgnoreRules:
        """`<Dockerfile>.dockerignore` beside the Dockerfile if any, else `.dockerignore`."""
        candidates = [context / ".dockerignore"]
        if dockerfile is not None:
            candidates.insert(0, dockerfile.with_name(dockerfile.name + ".dockerignore"))
        for candidate in candidates:
            if candidate.is_file():
                return cls.from_text(candidate.read_text(encoding="utf-8", errors="replace"))
        return cls()

    def ignored(self, path: str) -> bool:
        """Whether a slash-separated context-relative path is left out of the context."""
        path = posixpath.normpath(path).lstrip("/")
        parents = []
        parent = posixpath.dirname(path)
        while parent:
            parents.append(parent)
            parent = posixpath.dirname(parent)
        candidates = [path, *reversed(parents)]
        matched = False
        for pattern in self.patterns:
            if any(pattern.regex.match(candidate) for candidate in candidates):
                matched = not pattern.exclusion
        return matched

    def may_hold_kept(self, folder: str) -> bool:
        """Whether an ignored folder may still hold a path that an exception brings back."""
        if not self.has_exceptions:
            return False
        folder = posixpath.normpath(folder).lstrip("/")
        for pattern in self.patterns:
            if pattern.exclusion and (
                pattern.text.startswith(folder + "/") or "*" in pattern.text or "?" in pattern.text
            ):
                return True
        return False
