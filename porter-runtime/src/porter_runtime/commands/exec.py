"""porter-runtime exec: run a new process inside a container."""

from __future__ import annotations

from porter_runtime.cli.args import FLAG, INT, MULTI, VALUE, Command, Option

COMMAND = Command(
    "exec",
    "Run a process in a created or running container: from --process (a runtime-spec "
    "process JSON) or from the arguments after the container id.",
    (
        Option("process", ("-p", "--process"), VALUE, None, "process.json to run", "file"),
        Option("tty", ("-t", "--tty"), FLAG, help="allocate a terminal (needs --console-socket)"),
        Option("detach", ("-d", "--detach"), FLAG, help="do not wait for the process"),
        Option("cwd", ("--cwd",), VALUE, None, "working directory in the container", "dir"),
        Option("env", ("-e", "--env"), MULTI, None, "add KEY=VALUE to the environment", "env"),
        Option("user", ("-u", "--user"), VALUE, None, "uid[:gid]", "uid:gid"),
        Option(
            "additional_gids",
            ("-g", "--additional-gids"),
            MULTI,
            None,
            "additional group id",
            "gid",
        ),
        Option("cap", ("-c", "--cap"), MULTI, None, "add a capability", "cap"),
        Option("no_new_privs", ("--no-new-privs",), FLAG, help="set no_new_privs"),
        Option("apparmor", ("--apparmor",), VALUE, None, "AppArmor profile", "profile"),
        Option("process_label", ("--process-label",), VALUE, None, "SELinux label", "label"),
        Option("pid_file", ("--pid-file",), VALUE, None, "write the process's pid here", "file"),
        Option(
            "console_socket",
            ("--console-socket",),
            VALUE,
            None,
            "unix socket to receive the pty master",
            "path",
        ),
        Option("preserve_fds", ("--preserve-fds",), INT, 0, "pass on descriptors 3..3+N-1", "N"),
        Option("ignore_paused", ("--ignore-paused",), FLAG, help="accepted for compatibility"),
    ),
    args=("container-id",),
    rest="command",
    interspersed=False,
)


def run(ctx: object, opts: object) -> int:
    from porter_runtime import jsonio
    from porter_runtime.commands.run import _forward_signals, wait_exit
    from porter_runtime.container import open_container
    from porter_runtime.errors import ConfigError, UsageError
    from porter_runtime.execution import exec_process, process_from_flags

    container_id = opts.args[0]
    if opts.process:
        try:
            with open(opts.process, "rb") as f:
                proc = jsonio.loads(f.read())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"process file {opts.process}", str(exc)) from exc
        from porter_runtime.config import SHAPE, check_shape

        check_shape(proc, SHAPE["process"], "/process")
    else:
        if len(opts.args) < 2:
            raise UsageError(
                "porter-runtime exec: give a command after the container id, or --process"
            )
        _, saved, _, _ = open_container(ctx.root, container_id, lock=False)
        proc = process_from_flags((saved.get("config") or {}).get("process") or {}, opts)
    pid = exec_process(
        ctx.root,
        container_id,
        proc,
        console_socket=opts.console_socket,
        pid_file=opts.pid_file,
        preserve_fds=opts.preserve_fds,
    )
    if opts.detach:
        return 0
    _forward_signals(pid)
    return wait_exit(pid)
