"""porter-runtime delete: remove a stopped container (--force: kill it first)."""

from __future__ import annotations

from porter_runtime.cli.args import FLAG, Command, Option

COMMAND = Command(
    "delete",
    "Delete a stopped container and everything the runtime holds for it.",
    (
        Option(
            "force",
            ("-f", "--force"),
            FLAG,
            help="kill the container (SIGKILL) if it is not stopped",
        ),
    ),
)


def run(ctx: object, opts: object) -> int:
    from porter_runtime.lifecycle import delete

    delete(ctx.root, opts.args[0], opts.force)
    return 0
