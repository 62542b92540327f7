"""Parse a Dockerfile into stages of typed instructions (BuildKit's parser + instructions)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from porter_image.dockerfile import instructions as ins
from porter_image.dockerfile.errors import DockerfileSyntaxError
from porter_image.dockerfile.lines import LogicalLine, logical_lines
from porter_image.dockerfile.words import split_words

_STAGE_NAME = re.compile(r"^[a-z][a-z0-9._-]*$")
# keyword -> flags it takes; a flag in MULTI may repeat, one in BOOL may have no value.
_FLAGS: dict[str, frozenset[str]] = {
    "FROM": frozenset({"platform"}),
    "RUN": frozenset({"mount", "network", "security"}),
    "COPY": frozenset({"from", "chown", "chmod", "link", "exclude", "parents"}),
    "ADD": frozenset({"chown", "chmod", "link", "exclude", "checksum", "keep-git-dir", "parents"}),
    "HEALTHCHECK": frozenset({"interval", "timeout", "start-period", "start-interval", "retries"}),
}
_MULTI = frozenset({"mount", "exclude"})
_BOOL = frozenset({"link", "parents", "keep-git-dir"})


class _Context:
    def __init__(self, file: str, line: LogicalLine, escape: str) -> None:
        self.file = file
        self.line = line
        self.escape = escape

    def error(self, reason: str) -> DockerfileSyntaxError:
        return DockerfileSyntaxError(self.file, self.line.line, self.line.keyword, reason)

    def flags(self) -> tuple[dict[str, list[str]], str]:
        """The leading `--flag[=value]` words and the arguments after them."""
        allowed = _FLAGS.get(self.line.keyword, frozenset())
        found: dict[str, list[str]] = {}
        rest = self.line.args
        while rest.startswith("--"):
            word, _, after = rest.partition(" ")
            rest = after.lstrip()
            if word == "--":
                break
            name, eq, value = word[2:].partition("=")
            if name not in allowed:
                raise self.error(f"unknown flag: --{name}")
            if not eq and name not in _BOOL:
                raise self.error(f"missing a value on flag: --{name}")
            if name in found and name not in _MULTI:
                raise self.error(f"duplicate flag specified: --{name}")
            if name in _BOOL:
                value = value.lower() if eq else "true"
                if value not in ("true", "false"):
                    raise self.error(f"expecting a boolean value for flag --{name}, not: {value}")
            found.setdefault(name, []).append(value)
        return found, rest

    def no_flags(self) -> str:
        if self.line.args.startswith("--") and self.line.keyword not in _FLAGS:
            name = self.line.args.split()[0]
            raise self.error(f"unknown flag: {name}")
        return self.line.args


def _json_array(text: str) -> tuple[str, ...] | None:
    if not text.startswith("["):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return None
    return tuple(value)


def _command(ctx: _Context, text: str) -> ins.Command:
    exec_args = _json_array(text)
    if exec_args is not None:
        return ins.ExecForm(exec_args)
    if not text:
        raise ctx.error("requires at least one argument")
    return ins.ShellForm(text)


def _pairs(ctx: _Context, text: str, legacy: bool) -> tuple[tuple[str, str], ...]:
    words = split_words(text, ctx.escape)
    if not words:
        raise ctx.error("requires at least one argument")
    if "=" not in words[0]:
        if not legacy or len(words) < 2:
            raise ctx.error("must have two arguments")
        return ((words[0], text[len(words[0]) :].strip()),)
    pairs = []
    for word in words:
        key, eq, value = word.partition("=")
        if not eq or not key:
            raise ctx.error(
                f"syntax error - can't find = in {word!r}. Must be of the form: name=value"
            )
        pairs.append((key, value))
    return tuple(pairs)


def _from(ctx: _Context) -> ins.From:
    flags, rest = ctx.flags()
    words = rest.split()
    if len(words) == 3 and words[1].lower() == "as":
        name = words[2].lower()
        if not _STAGE_NAME.match(name):
            raise ctx.error(f"invalid name for build stage: {words[2]!r}")
    elif len(words) == 1:
        name = ""
    else:
        raise ctx.error("takes an image and an optional 'AS name'")
    return ins.From(ctx.line.line, words[0], name, flags.get("platform", [""])[0])


def _mount(ctx: _Context, text: str) -> ins.Mount:
    options = []
    for field in text.split(","):
        key, eq, value = field.partition("=")
        key = key.strip().lower()
        if key in ("ro", "readonly", "rw", "readwrite", "required") and not eq:
            value = "true"
        elif not eq:
            raise ctx.error(f"invalid mount option {field!r}: use key=value")
        options.append((key, value))
    mount = ins.Mount(tuple(options))
    if mount.type not in ("bind", "cache", "tmpfs", "secret", "ssh"):
        raise ctx.error(f"unsupported mount type {mount.type!r}")
    if mount.type in ("bind", "cache", "tmpfs") and not (
        mount.get("target") or mount.get("dst") or mount.get("destination")
    ):
        raise ctx.error(f"mount {text!r} has no target")
    return mount


def _run(ctx: _Context) -> ins.Run:
    flags, rest = ctx.flags()
    mounts = tuple(_mount(ctx, text) for text in flags.get("mount", []))
    return ins.Run(
        ctx.line.line,
        _command(ctx, rest),
        mounts,
        flags.get("network", [""])[0],
        flags.get("security", [""])[0],
        ctx.line.heredocs,
    )


def _on(flags: dict[str, list[str]], name: str) -> bool:
    """A boolean flag: given bare or as `=true`."""
    return flags.get(name) == ["true"]


def _copy(ctx: _Context) -> ins.Copy:
    add = ctx.line.keyword == "ADD"
    flags, rest = ctx.flags()
    words = _json_array(rest)
    if words is None:
        words = tuple(split_words(rest, ctx.escape))
    if len(words) < 2:
        raise ctx.error("requires at least two arguments, but only one was provided")
    return ins.Copy(
        ctx.line.line,
        words[:-1],
        words[-1],
        from_=flags.get("from", [""])[0],
        chown=flags.get("chown", [""])[0],
        chmod=flags.get("chmod", [""])[0],
        link=_on(flags, "link"),
        excludes=tuple(flags.get("exclude", [])),
        heredocs=ctx.line.heredocs,
        checksum=flags.get("checksum", [""])[0],
        keep_git_dir=_on(flags, "keep-git-dir"),
        add=add,
        parents=_on(flags, "parents"),
    )


def _healthcheck(ctx: _Context) -> ins.Healthcheck:
    flags, rest = ctx.flags()
    kind, _, command = rest.partition(" ")
    if kind.upper() == "NONE":
        if command.strip() or flags:
            raise ctx.error("HEALTHCHECK NONE takes no other arguments")
        return ins.Healthcheck(ctx.line.line, None)
    if kind.upper() != "CMD":
        raise ctx.error(f"unknown type {kind!r} in HEALTHCHECK (try CMD)")
    one = {name: values[0] for name, values in flags.items()}
    return ins.Healthcheck(
        ctx.line.line,
        _command(ctx, command.strip()),
        interval=one.get("interval", ""),
        timeout=one.get("timeout", ""),
        start_period=one.get("start-period", ""),
        start_interval=one.get("start-interval", ""),
        retries=one.get("retries", ""),
    )


def _arg(ctx: _Context) -> ins.Arg:
    words = split_words(ctx.no_flags(), ctx.escape)
    if not words:
        raise ctx.error("requires at least one argument")
    pairs: list[tuple[str, str | None]] = []
    for word in words:
        name, eq, value = word.partition("=")
        if not name:
            raise ctx.error(f"invalid argument {word!r}")
        pairs.append((name, value if eq else None))
    return ins.Arg(ctx.line.line, tuple(pairs))


def _words(ctx: _Context) -> tuple[str, ...]:
    words = tuple(split_words(ctx.no_flags(), ctx.escape))
    if not words:
        raise ctx.error("requires at least one argument")
    return words


def _one(ctx: _Context) -> str:
    text = ctx.no_flags()
    if not text:
        raise ctx.error("requires exactly one argument")
    return text


def _shell(ctx: _Context) -> ins.Shell:
    args = _json_array(ctx.no_flags())
    if not args:
        raise ctx.error("requires the arguments to be in JSON form")
    return ins.Shell(ctx.line.line, args)


def _volume(ctx: _Context) -> ins.Volume:
    paths = _json_array(ctx.no_flags())
    return ins.Volume(ctx.line.line, paths if paths is not None else _words(ctx))


def _onbuild(ctx: _Context) -> ins.Onbuild:
    text = _one(ctx)
    nested = LogicalLine(
        ctx.line.line, text.split()[0].upper(), text[len(text.split()[0]) :].strip()
    )
    if nested.keyword in ("ONBUILD", "FROM", "MAINTAINER"):
        raise ctx.error(f"{nested.keyword} isn't allowed as an ONBUILD trigger")
    trigger = parse_instruction(nested, ctx.file, ctx.escape)
    return ins.Onbuild(ctx.line.line, f"{nested.keyword} {nested.args}", trigger)


_PARSERS: dict[str, Callable[[_Context], ins.Instruction]] = {
    "FROM": _from,
    "RUN": _run,
    "CMD": lambda ctx: ins.Cmd(ctx.line.line, _command(ctx, ctx.no_flags())),
    "ENTRYPOINT": lambda ctx: ins.Entrypoint(ctx.line.line, _command(ctx, ctx.no_flags())),
    "SHELL": _shell,
    "ENV": lambda ctx: ins.Env(ctx.line.line, _pairs(ctx, ctx.no_flags(), legacy=True)),
    "LABEL": lambda ctx: ins.Label(ctx.line.line, _pairs(ctx, ctx.no_flags(), legacy=True)),
    "ARG": _arg,
    "EXPOSE": lambda ctx: ins.Expose(ctx.line.line, _words(ctx)),
    "VOLUME": _volume,
    "USER": lambda ctx: ins.User(ctx.line.line, _one(ctx)),
    "WORKDIR": lambda ctx: ins.Workdir(ctx.line.line, _one(ctx)),
    "STOPSIGNAL": lambda ctx: ins.Stopsignal(ctx.line.line, _one(ctx)),
    "MAINTAINER": lambda ctx: ins.Maintainer(ctx.line.line, _one(ctx)),
    "COPY": _copy,
    "ADD": _copy,
    "HEALTHCHECK": _healthcheck,
    "ONBUILD": _onbuild,
}


def parse_instruction(line: LogicalLine, file: str, escape: str = "\\") -> ins.Instruction:
    """One logical line as its typed instruction."""
    ctx = _Context(file, line, escape)
    parser = _PARSERS.get(line.keyword)
    if parser is None:
        raise DockerfileSyntaxError(file, line.line, line.keyword, "unknown instruction")
    return parser(ctx)


def parse_dockerfile(text: str, file: str = "Dockerfile") -> ins.Dockerfile:
    """A whole Dockerfile: directives, the ARGs before the first FROM, and the stages."""
    directives, lines = logical_lines(text, file)
    global_args: list[ins.Arg] = []
    stages: list[ins.Stage] = []
    current: ins.From | None = None
    body: list[ins.Instruction] = []
    for line in lines:
        instruction = parse_instruction(line, file, directives.escape)
        if isinstance(instruction, ins.From):
            if current is not None:
                stages.append(ins.Stage(len(stages), current, tuple(body)))
            current, body = instruction, []
        elif current is None:
            if not isinstance(instruction, ins.Arg):
                raise DockerfileSyntaxError(
                    file, line.line, line.keyword, "no FROM before it (only ARG may come first)"
                )
            global_args.append(instruction)
        else:
            body.append(instruction)
    if current is None:
        raise DockerfileSyntaxError(file, len(text.splitlines()) or 1, "", "no FROM instruction")
    stages.append(ins.Stage(len(stages), current, tuple(body)))
    names = [stage.name for stage in stages if stage.name]
    duplicate = next((name for name in names if names.count(name) > 1), None)
    if duplicate:
        raise DockerfileSyntaxError(file, 1, "FROM", f"duplicate stage name {duplicate!r}")
    return ins.Dockerfile(directives, tuple(global_args), tuple(stages), file)
