"""porter-runtime's command line: runc's global flags and subcommands.

Each subcommand lives in `porter_runtime.commands.<name>` and is imported only when it runs;
this module maps errors to exit codes in one place (`EXIT_CODES`).
"""

from __future__ import annotations

import sys

from porter_runtime.cli.args import FLAG, VALUE, Option, help_text, parse

VERSION = "0.1.0"
SPEC_VERSION = "1.2.0"

COMMANDS = {
    "create": "create a container (its process waits for start)",
    "start": "start the user process of a created container",
    "run": "create and start a container (and wait for it unless --detach)",
    "state": "print the state of a container as JSON",
    "kill": "send a signal to a container's init (or all its processes)",
    "delete": "delete a stopped container (--force kills it first)",
    "list": "list the containers under --root",
    "ps": "list the processes of a container",
    "exec": "run a new process inside a container",
    "pause": "freeze every process of a container",
    "resume": "thaw a paused container",
    "update": "change a container's cgroup resources",
    "events": "print a container's statistics and out-of-memory events",
    "spec": "write a default config.json",
    "features": "print the runtime-spec features document",
}

GLOBAL_OPTIONS = (
    Option(
        "root",
        ("--root",),
        VALUE,
        None,
        "state directory (default /run/porter-runtime; for other users than root "
        "$XDG_RUNTIME_DIR/porter-runtime, else /tmp/porter-runtime-<uid>)",
        "dir",
    ),
    Option("log", ("--log",), VALUE, None, "write errors and warnings to this file", "file"),
    Option("log_format", ("--log-format",), VALUE, "text", "text or json", "format"),
    Option("debug", ("--debug",), FLAG, help="log debug messages"),
    Option(
        "systemd_cgroup",
        ("--systemd-cgroup",),
        FLAG,
        help="accepted for compatibility; cgroupfs is used",
    ),
    Option("rootless", ("--rootless",), VALUE, "auto", "accepted for compatibility", "bool"),
    Option("criu", ("--criu",), VALUE, None, "accepted for compatibility (no checkpoint)"),
    Option("version", ("-v", "--version"), FLAG, help="print the version"),
    Option("help", ("-h", "--help"), FLAG, help="show this help"),
)

# error class name -> exit code; everything not listed exits 1
EXIT_CODES = {
    "UsageError": 2,
}


def exit_code(exc: BaseException) -> int:
    for cls in type(exc).__mro__:
        if cls.__name__ in EXIT_CODES:
            return EXIT_CODES[cls.__name__]
    return 1


def default_root() -> str:
    """Where state lives without --root: /run/porter-runtime for root, and for any other user
    a directory of their own, as runc does ($XDG_RUNTIME_DIR/porter-runtime, else
    /tmp/porter-runtime-<uid>, which must be theirs: /tmp is shared)."""
    import os

    uid = os.geteuid()
    if uid == 0:
        return "/run/porter-runtime"
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg and os.path.isabs(xdg):
        return os.path.join(xdg, "porter-runtime")
    path = f"/tmp/porter-runtime-{uid}"
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        info = os.lstat(path)
        if info.st_uid != uid or (info.st_mode & 0o170000) != 0o040000 or info.st_mode & 0o022:
            from porter_runtime.errors import UsageError

            raise UsageError(
                f"{path}: not a directory of uid {uid} writable only by it; pass --root"
            ) from None
    return path


def _split_globals(argv: list[str]) -> tuple[list[str], str | None, list[str]]:
    """Global flags come before the command name."""
    i = 0
    while i < len(argv):
        token = argv[i]
        if not token.startswith("-"):
            return argv[:i], token, argv[i + 1 :]
        name = token.partition("=")[0].lstrip("-")
        takes_value = any(
            o.kind != FLAG and name in (n.lstrip("-") for n in o.names) for o in GLOBAL_OPTIONS
        )
        i += 2 if takes_value and "=" not in token else 1
    return argv, None, []


def main(argv: list[str] | None = None) -> int:
    from porter_runtime import log
    from porter_runtime.errors import PorterError

    argv = sys.argv[1:] if argv is None else argv
    try:
        head, name, rest = _split_globals(argv)
        ctx = parse(GLOBAL_OPTIONS, head)
        if ctx.log_format not in ("text", "json"):
            from porter_runtime.errors import UsageError

            raise UsageError(f"--log-format must be text or json, not {ctx.log_format!r}")
        log.configure(ctx.log, ctx.log_format, ctx.debug)
        if ctx.version:
            sys.stdout.write(f"porter-runtime version {VERSION}\nspec: {SPEC_VERSION}\n")
            return 0
        if ctx.help or name is None or name == "help":
            sys.stdout.write(
                help_text(
                    "porter-runtime",
                    None,
                    GLOBAL_OPTIONS,
                    "An OCI runtime-spec runtime with runc's command line.",
                    COMMANDS,
                )
            )
            return 0 if ctx.help or name == "help" else 2
        if name not in COMMANDS:
            from porter_runtime.errors import UsageError

            raise UsageError(f"unknown command {name!r} (see porter-runtime --help)")
        if ctx.root is None:
            ctx.root = default_root()
        log.debug(" ".join([name, *rest]))
        return _run_command(name, ctx, rest)
    except PorterError as exc:
        log.error(str(exc))
        return exit_code(exc)
    except OSError as exc:  # what no check foresaw (often: no permission as a user)
        log.error(f"{exc.filename or 'porter-runtime'}: {exc.strerror or exc}")
        return 1
    except KeyboardInterrupt:
        return 130


def _run_command(name: str, ctx: object, rest: list[str]) -> int:
    from porter_runtime.errors import UsageError

    # __import__ rather than importlib.import_module: the importlib package costs start-up time
    module = __import__(f"porter_runtime.commands.{name}", fromlist=["COMMAND"])
    command = module.COMMAND
    if "-h" in rest[:1] or "--help" in rest[: len(rest) if command.interspersed else 1]:
        sys.stdout.write(help_text("porter-runtime", command, command.options, ""))
        return 0
    opts = parse(command.options, rest, command.interspersed, f"porter-runtime {name}")
    need = len(command.args)
    if len(opts.args) < need or (len(opts.args) > need and command.rest is None):
        expected = " ".join(f"<{a}>" for a in command.args) or "no arguments"
        raise UsageError(
            f"porter-runtime {name}: expected {expected}, got {len(opts.args)} argument(s)"
        )
    return module.run(ctx, opts) or 0
