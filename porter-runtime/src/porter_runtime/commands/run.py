"""porter-runtime run: create and start; unless --detach, wait, forward signals, delete, and
exit with the container's status (128+N when killed by signal N)."""

from __future__ import annotations

import os

from porter_runtime.cli.args import FLAG, Command, Option
from porter_runtime.commands.create import CREATE_OPTIONS, create_from_options

COMMAND = Command(
    "run",
    "Create and start a container; in the foreground, wait for it and delete it.",
    (
        *CREATE_OPTIONS,
        Option("detach", ("-d", "--detach"), FLAG, help="return once the container started"),
        Option("keep", ("--keep",), FLAG, help="do not delete the container after it exits"),
    ),
)

# forwarded to the container while `run` waits in the foreground
FORWARDED = (1, 2, 3, 10, 12, 15, 28)


def run(ctx: object, opts: object) -> int:
    from porter_runtime import syscalls
    from porter_runtime.lifecycle import delete, start

    if not opts.detach:  # the init is our child (cloned, or adopted when stage A exits)
        syscalls.real().prctl(syscalls.PR_SET_CHILD_SUBREAPER, 1)
    container_id = opts.args[0]
    created = create_from_options(ctx, opts)
    pid = created.state["pid"]
    if opts.detach:
        start(ctx.root, container_id)
        return 0
    _forward_signals(pid)
    try:
        start(ctx.root, container_id)
    except BaseException:
        delete(ctx.root, container_id, force=True)
        raise
    status = wait_exit(pid)
    if not opts.keep:
        delete(ctx.root, container_id, force=True)
    return status


def _forward_signals(pid: int) -> None:
    import _signal

    def forward(signum: int, _frame: object) -> None:
        try:  # noqa: SIM105 (contextlib costs start-up time)
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for signum in FORWARDED:
        _signal.signal(signum, forward)


def wait_exit(pid: int) -> int:
    """Wait for `pid` (our child through the subreaper) and turn its end into an exit code."""
    while True:
        try:
            done, status = os.waitpid(pid, 0)
        except ChildProcessError:
            return 255
        if done == pid:
            break
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)
