"""A small command-line parser with runc's (Go flag) conventions.

argparse costs ~7 ms and click ~25 ms to import, a third of runc's whole lifecycle time;
this parser costs nothing and accepts what runc accepts: `--flag value`, `--flag=value`,
`-flag value` (Go's single-dash long flags), short aliases, repeated flags, and flags after
positional arguments (except where the rest of the line is a command, as in exec).
"""

from __future__ import annotations

from porter_runtime.errors import UsageError

FLAG = "flag"  # boolean
VALUE = "value"  # string
INT = "int"
BYTES = "bytes"  # a size: plain bytes or with a k/m/g/t/p suffix (1024-based, as runc)
MULTI = "multi"  # repeatable string


class Option:
    __slots__ = ("default", "dest", "help", "kind", "metavar", "names")

    def __init__(
        self,
        dest: str,
        names: tuple[str, ...],
        kind: str = FLAG,
        default: object = None,
        help: str = "",
        metavar: str = "value",
    ) -> None:
        self.dest = dest
        self.names = names
        self.kind = kind
        self.default = [] if kind == MULTI and default is None else default
        if kind == FLAG and default is None:
            self.default = False
        self.help = help
        self.metavar = metavar


class Command:
    """A subcommand's interface; `run(ctx, opts, args)` lives in its own module."""

    __slots__ = ("args", "help", "interspersed", "name", "options", "rest")

    def __init__(
        self,
        name: str,
        help: str,
        options: tuple[Option, ...] = (),
        args: tuple[str, ...] = ("container-id",),
        rest: str | None = None,
        interspersed: bool = True,
    ) -> None:
        self.name = name
        self.help = help
        self.options = options
        self.args = args
        self.rest = rest
        self.interspersed = interspersed


class Parsed:
    """Options by dest (attribute access) and positional arguments."""

    def __init__(self, values: dict[str, object], args: list[str]) -> None:
        self.__dict__.update(values)
        self.args = args


def _lookup(options: tuple[Option, ...], token: str) -> tuple[Option | None, str | None]:
    name, eq, value = token.partition("=")
    bare = name.lstrip("-")
    for option in options:
        for candidate in option.names:
            if candidate.lstrip("-") == bare:
                return option, value if eq else None
    return None, None


def parse(
    options: tuple[Option, ...],
    argv: list[str],
    interspersed: bool = True,
    what: str = "porter-runtime",
) -> Parsed:
    values: dict[str, object] = {
        o.dest: (list(o.default) if o.kind == MULTI else o.default) for o in options
    }
    positional: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        i += 1
        if token == "--":
            positional.extend(argv[i:])
            break
        if not token.startswith("-") or token == "-" or (positional and not interspersed):
            positional.append(token)
            if not interspersed:
                positional.extend(argv[i:])
                break
            continue
        option, inline = _lookup(options, token)
        if option is None:
            raise UsageError(f"{what}: unknown flag {token.partition('=')[0]}")
        if option.kind == FLAG:
            values[option.dest] = inline not in ("false", "0") if inline is not None else True
            continue
        if inline is None:
            if i >= len(argv):
                raise UsageError(f"{what}: flag {token} needs a value")
            inline = argv[i]
            i += 1
        values[option.dest] = _convert(option, inline, values[option.dest], what)
    return Parsed(values, positional)


def _convert(option: Option, raw: str, current: object, what: str) -> object:
    if option.kind == INT:
        try:
            return int(raw)
        except ValueError:
            raise UsageError(
                f"{what}: flag {option.names[-1]} needs a number, not {raw!r}"
            ) from None
    if option.kind == BYTES:
        return parse_bytes(raw, f"{what}: flag {option.names[-1]}")
    if option.kind == MULTI:
        return [*current, raw]
    return raw


_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def parse_bytes(raw: str, what: str) -> int:
    """A size as runc and docker take it: `67108864`, `64M`, `64mb`, `64MiB` (1024-based);
    -1 means unlimited."""
    text = raw.strip().lower()
    for suffix in ("ib", "b"):
        if text.endswith(suffix) and text != suffix:
            text = text[: -len(suffix)]
            break
    number, unit = text, ""
    if text and text[-1] in _UNITS:
        number, unit = text[:-1], text[-1]
    try:
        value = float(number) if "." in number else int(number)
    except ValueError:
        raise UsageError(f"{what} needs a size such as 67108864 or 64M, not {raw!r}") from None
    if value == -1 and not unit:
        return -1
    if value < 0:
        raise UsageError(f"{what} needs a size such as 67108864 or 64M, not {raw!r}")
    return int(value * _UNITS[unit])


def help_text(
    prog: str,
    command: Command | None,
    options: tuple[Option, ...],
    summary: str,
    commands: dict[str, str] | None = None,
) -> str:
    """--help output, generated from the same tables the parser reads."""
    if command is not None:
        positional = " ".join(f"<{a}>" for a in command.args)
        if command.rest:
            positional += f" [{command.rest}...]"
        lines = [
            f"Usage: {prog} {command.name} [options] {positional}".rstrip(),
            "",
            command.help,
            "",
        ]
    else:
        lines = [f"Usage: {prog} [global options] <command> [options] [arguments]", "", summary, ""]
    if options:
        lines.append("Options:")
        for option in options:
            names = ", ".join(option.names)
            if option.kind != FLAG:
                names += f" {option.metavar}"
            lines.append(f"  {names:<32} {option.help}")
    if commands:
        lines += ["", "Commands:"]
        lines += [f"  {name:<10} {text}" for name, text in commands.items()]
    return "\n".join(lines) + "\n"
