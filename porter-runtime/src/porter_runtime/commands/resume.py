"""porter-runtime resume: thaw a paused container."""

from __future__ import annotations

from porter_runtime.cli.args import Command

COMMAND = Command("resume", "Thaw the processes of a paused container.")


def run(ctx: object, opts: object) -> int:
    from porter_runtime.control import resume

    resume(ctx.root, opts.args[0])
    return 0
