"""porter-runtime update: change a container's cgroup resources while it runs."""

from __future__ import annotations

from porter_runtime.cli.args import BYTES, INT, VALUE, Command, Option

# flag dest -> (section, key) in linux.resources
FIELDS = {
    "memory": ("memory", "limit"),
    "memory_reservation": ("memory", "reservation"),
    "memory_swap": ("memory", "swap"),
    "kernel_memory": ("memory", "kernel"),
    "kernel_memory_tcp": ("memory", "kernelTCP"),
    "cpu_shares": ("cpu", "shares"),
    "cpu_quota": ("cpu", "quota"),
    "cpu_period": ("cpu", "period"),
    "cpu_rt_runtime": ("cpu", "realtimeRuntime"),
    "cpu_rt_period": ("cpu", "realtimePeriod"),
    "cpuset_cpus": ("cpu", "cpus"),
    "cpuset_mems": ("cpu", "mems"),
    "cpu_idle": ("cpu", "idle"),
    "pids_limit": ("pids", "limit"),
    "blkio_weight": ("blockIO", "weight"),
}
_STRINGS = {"cpuset_cpus", "cpuset_mems"}
_SIZES = {"memory", "memory_reservation", "memory_swap", "kernel_memory", "kernel_memory_tcp"}


def _kind(dest: str) -> str:
    if dest in _STRINGS:
        return VALUE
    return BYTES if dest in _SIZES else INT


COMMAND = Command(
    "update",
    "Update a container's resource limits, from flags or from a linux.resources "
    "JSON document (-r file, or - for stdin).",
    (
        Option("resources", ("-r", "--resources"), VALUE, None, "resources JSON file", "file"),
        *(
            Option(
                dest,
                ("--" + dest.replace("_", "-"),),
                _kind(dest),
                None,
                f"linux.resources.{section}.{key}",
                "value",
            )
            for dest, (section, key) in FIELDS.items()
        ),
    ),
)


def resources_from(opts: object) -> dict:
    """The resources document the flags (or the file) describe."""
    from porter_runtime import jsonio
    from porter_runtime.errors import ConfigError, UsageError

    if opts.resources:
        try:
            if opts.resources == "-":
                import sys

                raw = sys.stdin.read()
            else:
                with open(opts.resources, "rb") as f:
                    raw = f.read()
            document = jsonio.loads(raw)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"resources file {opts.resources}", str(exc)) from exc
        if not isinstance(document, dict):
            raise ConfigError(f"resources file {opts.resources}", "must be a JSON object")
        return document
    resources: dict = {}
    for dest, (section, key) in FIELDS.items():
        value = getattr(opts, dest)
        if value is not None:
            resources.setdefault(section, {})[key] = value
    if not resources:
        raise UsageError("porter-runtime update: give -r or at least one resource flag")
    return resources


def run(ctx: object, opts: object) -> int:
    from porter_runtime.control import update

    update(ctx.root, opts.args[0], resources_from(opts))
    return 0
