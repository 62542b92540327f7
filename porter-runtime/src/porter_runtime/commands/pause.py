"""porter-runtime pause: freeze every process of a running container."""

from __future__ import annotations

from porter_runtime.cli.args import Command

COMMAND = Command("pause", "Freeze all processes of a running container (cgroup freezer).")


def run(ctx: object, opts: object) -> int:
    from porter_runtime.control import pause

    pause(ctx.root, opts.args[0])
    return 0
