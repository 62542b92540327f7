"""porter-runtime start: run the user process of a created container."""

from __future__ import annotations

from porter_runtime.cli.args import Command

COMMAND = Command("start", "Start a created container (the spec's start operation).")


def run(ctx: object, opts: object) -> int:
    from porter_runtime.lifecycle import start

    start(ctx.root, opts.args[0])
    return 0
