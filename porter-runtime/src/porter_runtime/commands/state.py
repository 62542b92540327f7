"""porter-runtime state: the runtime-spec state of a container, as JSON."""

from __future__ import annotations

import sys

from porter_runtime.cli.args import Command

COMMAND = Command("state", "Print the state of a container (the spec's state operation).")


def run(ctx: object, opts: object) -> int:
    from porter_runtime import jsonio
    from porter_runtime.container import open_container
    from porter_runtime.state import public_state

    _, saved, _, current = open_container(ctx.root, opts.args[0], lock=False)
    sys.stdout.write(jsonio.dumps(public_state(saved, current), indent=2) + "\n")
    return 0
