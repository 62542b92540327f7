"""From Dockerfile text to logical lines: directives, comments, continuations and heredocs.

The parser directives (`# escape=`, `# syntax=`, `# check=`) are read from the top of the file
until the first line that is not one. After that, a line whose first non-blank character is
`#` is a comment (also in the middle of a continued instruction), a line ending in the escape
character continues on the next one, and RUN, COPY and ADD may name heredocs (`<<EOF`,
`<<-EOF`, `<<"EOF"`) whose bodies follow the instruction line verbatim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from porter_image.dockerfile.errors import DockerfileSyntaxError

_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_KNOWN_DIRECTIVES = frozenset({"escape", "syntax", "check"})
BUILT_IN_FRONTENDS = frozenset({"docker/dockerfile", "docker.io/docker/dockerfile"})
_HEREDOC = re.compile(r"(?:^|(?<=\s))<<(-?)(['\"]?)([A-Za-z0-9_.\-]+)\2")
HEREDOC_INSTRUCTIONS = frozenset({"RUN", "COPY", "ADD"})


@dataclass(frozen=True)
class Heredoc:
    """A here-document: its name, its body, and whether variables in it expand (unquoted name)."""

    name: str
    content: str
    expand: bool


@dataclass(frozen=True)
class LogicalLine:
    """One instruction as written: its keyword, its arguments with continuations joined."""

    line: int
    keyword: str
    args: str
    heredocs: tuple[Heredoc, ...] = ()


@dataclass(frozen=True)
class Directives:
    escape: str = "\\"
    syntax: str = ""
    check: str = ""

    def frontend_warning(self) -> str | None:
        """BuildKit pulls the frontend `# syntax=` names; porter-image has the Dockerfile
        frontend built in (heredocs, RUN --mount), so docker/dockerfile at any version is this
        one. Another frontend cannot run here: the build goes on with the built-in one, as the
        classic builder ignores the directive, and says so."""
        if not self.syntax:
            return None
        name = self.syntax.split("@", 1)[0]
        head, _, last = name.rpartition("/")
        name = f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]
        if name in BUILT_IN_FRONTENDS:
            return None
        return (
            f"warning: # syntax={self.syntax}: only the built-in Dockerfile frontend "
            "(docker/dockerfile) runs here; building with it"
        )


def read_directives(lines: list[str], file: str) -> tuple[Directives, int]:
    """The directives at the top and the index of the first line after them."""
    found: dict[str, str] = {}
    index = 0
    for index, line in enumerate(lines):
        match = _DIRECTIVE.match(line.strip())
        if not match or match.group(1).lower() not in _KNOWN_DIRECTIVES:
            break
        key = match.group(1).lower()
        if key in found:
            raise DockerfileSyntaxError(
                file, index + 1, "", f"only one {key} directive may be used"
            )
        found[key] = match.group(2)
    else:
        index = len(lines)
    escape = found.get("escape", "\\")
    if escape not in ("\\", "`"):
        raise DockerfileSyntaxError(file, 1, "", f"invalid escape token {escape!r}: use \\ or `")
    return Directives(escape, found.get("syntax", ""), found.get("check", "")), index


def logical_lines(text: str, file: str = "Dockerfile") -> tuple[Directives, list[LogicalLine]]:
    """Split a Dockerfile into its directives and its instructions."""
    lines = text.splitlines()
    directives, index = read_directives(lines, file)
    continuation = re.compile(re.escape(directives.escape) + r"[ \t]*$")
    result: list[LogicalLine] = []
    while index < len(lines):
        stripped = lines[index].strip()
        if not stripped or stripped.startswith("#"):
            index += 1
            continue
        start = index
        parts: list[str] = []
        line = lines[index].lstrip()
        index += 1
        while continuation.search(line):
            parts.append(continuation.sub("", line))
            while index < len(lines) and (
                not lines[index].strip() or lines[index].lstrip().startswith("#")
            ):
                index += 1
            if index >= len(lines):
                line = ""
                break
            line = lines[index]
            index += 1
        parts.append(line)
        joined = "".join(parts).strip()
        keyword, _, args = joined.partition(" ")
        keyword, _, tab_args = keyword.partition("\t")
        args = (tab_args + " " + args).strip() if tab_args else args.strip()
        keyword = keyword.upper()
        heredocs: list[Heredoc] = []
        if keyword in HEREDOC_INSTRUCTIONS:
            index = _read_heredocs(args, lines, index, heredocs, file, start + 1, keyword)
        result.append(LogicalLine(start + 1, keyword, args, tuple(heredocs)))
    return directives, result


def heredoc_markers(args: str) -> list[re.Match[str]]:
    """The `<<NAME` markers of an argument line, in order; not those inside quotes."""
    inside, quote = [], ""
    for ch in args:
        inside.append(bool(quote))
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
    return [m for m in _HEREDOC.finditer(args) if not inside[m.start()]]


def _read_heredocs(
    args: str,
    lines: list[str],
    index: int,
    out: list[Heredoc],
    file: str,
    line_number: int,
    keyword: str,
) -> int:
    for marker in heredoc_markers(args):
        chomp, quote, name = marker.group(1), marker.group(2), marker.group(3)
        body: list[str] = []
        while True:
            if index >= len(lines):
                raise DockerfileSyntaxError(
                    file, line_number, keyword, f"heredoc {name} is not terminated"
                )
            line = lines[index]
            index += 1
            if chomp:
                line = line.lstrip("\t")
            if line == name:
                break
            body.append(line + "\n")
        out.append(Heredoc(name, "".join(body), expand=not quote))
    return index
