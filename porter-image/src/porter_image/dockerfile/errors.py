"""The errors of the Dockerfile parser: each names the file, the line and the instruction."""

from __future__ import annotations

from porter_specs.errors import PorterError


class DockerfileSyntaxError(PorterError, ValueError):
    """A Dockerfile line cannot be parsed: `FILE:LINE: INSTRUCTION: reason`."""

    def __init__(self, file: str, line: int, instruction: str, reason: str) -> None:
        where = f"{file}:{line}"
        super().__init__(
            f"{where}: {instruction}: {reason}" if instruction else f"{where}: {reason}"
        )
        self.file = file
        self.line = line
        self.instruction = instruction
        self.reason = reason


class SubstitutionError(PorterError, ValueError):
    """A `${VAR...}` expression is malformed, or `${VAR:?message}` met an unset VAR."""

    def __init__(self, word: str, reason: str) -> None:
        super().__init__(f"variable substitution in {word!r}: {reason}")
        self.word = word
        self.reason = reason


class IgnorePatternError(PorterError, ValueError):
    """A .dockerignore line or a COPY source is not a valid filepath.Match pattern."""

    def __init__(self, pattern: str, reason: str) -> None:
        super().__init__(f"pattern {pattern!r}: {reason}")
        self.pattern = pattern
