"""porter-runtime list: the containers under --root, as a table or JSON."""

from __future__ import annotations

import os
import sys

from porter_runtime.cli.args import FLAG, VALUE, Command, Option

COMMAND = Command(
    "list",
    "List the containers of this --root.",
    (
        Option("format", ("-f", "--format"), VALUE, "table", "table or json", "format"),
        Option("quiet", ("-q", "--quiet"), FLAG, help="print only the ids"),
    ),
    args=(),
)


def run(ctx: object, opts: object) -> int:
    from porter_runtime import jsonio
    from porter_runtime.container import open_container
    from porter_runtime.errors import ContainerNotFoundError, UsageError
    from porter_runtime.state import list_ids, public_state

    if opts.format not in ("table", "json"):
        raise UsageError(f"porter-runtime list: unknown format {opts.format!r} (table or json)")
    rows = []
    for container_id in list_ids(ctx.root):
        try:
            _, saved, _, current = open_container(ctx.root, container_id, lock=False)
        except ContainerNotFoundError:
            continue
        rows.append(public_state(saved, current) | {"owner": _owner(ctx.root, container_id)})
    if opts.quiet:
        sys.stdout.write("".join(r["id"] + "\n" for r in rows))
    elif opts.format == "json":
        sys.stdout.write(jsonio.dumps(rows) + "\n")
    else:
        lines = [("ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER")]
        lines += [
            (r["id"], str(r["pid"]), r["status"], r["bundle"], r["created"], r["owner"])
            for r in rows
        ]
        widths = [max(len(line[i]) for line in lines) for i in range(6)]
        for line in lines:
            sys.stdout.write(
                "   ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() + "\n"
            )
    return 0


def _owner(root: str, container_id: str) -> str:
    """The name of the user owning the container's state folder, as runc's list shows it
    (`#UID` when the uid has no name)."""
    import pwd

    try:
        uid = os.stat(os.path.join(root, container_id)).st_uid
    except OSError:
        return ""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"#{uid}"
