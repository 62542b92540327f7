"""The instructions of a Dockerfile as typed values, each with the line it starts on.

Arguments are kept as written (quotes, `$VAR`): the builder expands them with the ARG and ENV
values in scope at that step, which only it knows. Commands keep their form: `ExecForm` is a
JSON array run as is, `ShellForm` is a string run through the image's SHELL.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from porter_image.dockerfile.lines import Directives, Heredoc


@dataclass(frozen=True)
class ExecForm:
    args: tuple[str, ...]


@dataclass(frozen=True)
class ShellForm:
    text: str


Command = ExecForm | ShellForm


@dataclass(frozen=True)
class Instruction:
    line: int

    @property
    def keyword(self) -> str:
        return type(self).__name__.upper()


@dataclass(frozen=True)
class From(Instruction):
    image: str
    stage_name: str = ""
    platform: str = ""


@dataclass(frozen=True)
class Mount:
    """One `RUN --mount=...` as its key/value options (`type` defaults to bind)."""

    options: tuple[tuple[str, str], ...]

    def get(self, key: str, default: str = "") -> str:
        return dict(self.options).get(key, default)

    @property
    def type(self) -> str:
        return self.get("type", "bind")


@dataclass(frozen=True)
class Run(Instruction):
    command: Command
    mounts: tuple[Mount, ...] = ()
    network: str = ""
    security: str = ""
    heredocs: tuple[Heredoc, ...] = ()


@dataclass(frozen=True)
class Cmd(Instruction):
    command: Command


@dataclass(frozen=True)
class Entrypoint(Instruction):
    command: Command


@dataclass(frozen=True)
class Shell(Instruction):
    args: tuple[str, ...]


@dataclass(frozen=True)
class Env(Instruction):
    """ENV or LABEL pairs, key and value still to expand."""

    pairs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Label(Instruction):
    pairs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Arg(Instruction):
    """`ARG NAME[=default]...`: a default of None means none was given."""

    pairs: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True)
class Expose(Instruction):
    ports: tuple[str, ...]


@dataclass(frozen=True)
class Volume(Instruction):
    paths: tuple[str, ...]


@dataclass(frozen=True)
class User(Instruction):
    user: str


@dataclass(frozen=True)
class Workdir(Instruction):
    path: str


@dataclass(frozen=True)
class Stopsignal(Instruction):
    signal: str


@dataclass(frozen=True)
class Maintainer(Instruction):
    name: str


@dataclass(frozen=True)
class Copy(Instruction):
    """COPY, or ADD when `add` is set; sources named `<<NAME` are the heredocs of the same name."""

    sources: tuple[str, ...]
    dest: str
    from_: str = ""
    chown: str = ""
    chmod: str = ""
    link: bool = False
    excludes: tuple[str, ...] = ()
    heredocs: tuple[Heredoc, ...] = ()
    checksum: str = ""
    keep_git_dir: bool = False
    add: bool = False
    parents: bool = False

    @property
    def keyword(self) -> str:
        return "ADD" if self.add else "COPY"


@dataclass(frozen=True)
class Healthcheck(Instruction):
    """HEALTHCHECK NONE (command None) or HEALTHCHECK [options] CMD command."""

    command: Command | None
    interval: str = ""
    timeout: str = ""
    start_period: str = ""
    start_interval: str = ""
    retries: str = ""


@dataclass(frozen=True)
class Onbuild(Instruction):
    """ONBUILD: the trigger as written (kept in the image config) and as parsed."""

    expression: str
    trigger: Instruction


@dataclass(frozen=True)
class Stage:
    """A FROM and the instructions after it, up to the next FROM."""

    index: int
    base: From
    instructions: tuple[Instruction, ...]

    @property
    def name(self) -> str:
        return self.base.stage_name


@dataclass(frozen=True)
class Dockerfile:
    directives: Directives
    global_args: tuple[Arg, ...]
    stages: tuple[Stage, ...]
    file: str = "Dockerfile"
    warnings: tuple[str, ...] = field(default=())
