"""porter-runtime ps: the processes of a container (ps(1) table or a JSON list of pids)."""

from __future__ import annotations

import sys

from porter_runtime.cli.args import VALUE, Command, Option

COMMAND = Command(
    "ps",
    "List the processes of a container; arguments after the id are passed to ps(1) (default -ef).",
    (Option("format", ("-f", "--format"), VALUE, "table", "table or json", "format"),),
    args=("container-id",),
    rest="ps-args",
    interspersed=False,
)


def run(ctx: object, opts: object) -> int:
    from porter_runtime import jsonio
    from porter_runtime.container import container_pids, open_container
    from porter_runtime.errors import UsageError, WrongStateError

    if opts.format not in ("table", "json"):
        raise UsageError(f"porter-runtime ps: unknown format {opts.format!r} (table or json)")
    container_id = opts.args[0]
    _, saved, cgroup, current = open_container(ctx.root, container_id, lock=False)
    if current == "stopped":
        raise WrongStateError(container_id, current, "list processes of", "created or running")
    pids = sorted(container_pids(saved, cgroup))
    if opts.format == "json":
        sys.stdout.write(jsonio.dumps(pids) + "\n")
        return 0
    sys.stdout.write(ps_table(pids, opts.args[1:] or ["-ef"]))
    return 0


def ps_table(pids: list[int], ps_args: list[str]) -> str:
    """ps(1)'s output limited to the container's processes (header kept)."""
    import subprocess

    from porter_runtime.errors import RuntimeFailure

    try:
        out = subprocess.run(["ps", *ps_args], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise RuntimeFailure(f"ps {' '.join(ps_args)}: {exc}") from exc
    lines = out.splitlines()
    if not lines:
        return ""
    header = lines[0].split()
    if "PID" not in header:
        raise RuntimeFailure(f"ps {' '.join(ps_args)}: its output has no PID column")
    column = header.index("PID")
    wanted = {str(p) for p in pids}
    kept = [lines[0]] + [
        line for line in lines[1:] if len(line.split()) > column and line.split()[column] in wanted
    ]
    return "\n".join(kept) + "\n"
