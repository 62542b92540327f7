"""The flags `run` and `create` share, and the container config (Config, HostConfig) the
Engine API's create takes, built from them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from porter_cli.container import parsing

F = TypeVar("F", bound=Callable[..., Any])

# (param decls, keyword arguments of click.option)
OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("-i", "--interactive"), {"is_flag": True, "help": "Keep STDIN open even if not attached"}),
    (("-t", "--tty"), {"is_flag": True, "help": "Allocate a pseudo-TTY"}),
    (("--name",), {"help": "Assign a name to the container"}),
    (
        ("-e", "--env"),
        {"multiple": True, "metavar": "KEY=VALUE", "help": "Set environment variables"},
    ),
    (
        ("--env-file",),
        {"multiple": True, "metavar": "FILE", "help": "Read in a file of environment variables"},
    ),
    (
        ("-v", "--volume"),
        {"multiple": True, "metavar": "[SRC:]DST[:OPTS]", "help": "Bind mount a volume"},
    ),
    (
        ("--mount",),
        {
            "multiple": True,
            "metavar": "type=...,target=...",
            "help": "Attach a filesystem mount to the container",
        },
    ),
    (("--tmpfs",), {"multiple": True, "metavar": "PATH[:OPTS]", "help": "Mount a tmpfs directory"}),
    (("-w", "--workdir"), {"help": "Working directory inside the container"}),
    (("-u", "--user"), {"help": "Username or UID (format: <name|uid>[:<group|gid>])"}),
    (("--entrypoint",), {"help": "Overwrite the default ENTRYPOINT of the image"}),
    (("-h", "--hostname"), {"help": "Container host name"}),
    (("--domainname",), {"help": "Container NIS domain name"}),
    (
        ("--read-only",),
        {"is_flag": True, "help": "Mount the container's root filesystem as read only"},
    ),
    (("--cap-add",), {"multiple": True, "help": "Add Linux capabilities"}),
    (("--cap-drop",), {"multiple": True, "help": "Drop Linux capabilities"}),
    (("--privileged",), {"is_flag": True, "help": "Give extended privileges to this container"}),
    (
        ("--security-opt",),
        {
            "multiple": True,
            "help": "Security options (seccomp=..., no-new-privileges, apparmor=...)",
        },
    ),
    (("-m", "--memory"), {"help": "Memory limit (e.g. 512m, 1g)"}),
    (
        ("--memory-swap",),
        {"help": "Swap limit equal to memory plus swap: '-1' to enable unlimited swap"},
    ),
    (("--cpus",), {"type": float, "help": "Number of CPUs"}),
    (("-c", "--cpu-shares"), {"type": int, "help": "CPU shares (relative weight)"}),
    (("--pids-limit",), {"type": int, "help": "Tune container pids limit (set -1 for unlimited)"}),
    (("--ulimit",), {"multiple": True, "metavar": "NAME=SOFT[:HARD]", "help": "Ulimit options"}),
    (
        ("--init",),
        {
            "is_flag": True,
            "help": "Run an init inside the container that forwards signals and reaps processes",
        },
    ),
    (
        ("-l", "--label"),
        {"multiple": True, "metavar": "KEY=VALUE", "help": "Set meta data on a container"},
    ),
    (
        ("--restart",),
        {"default": "no", "help": "Restart policy: no, on-failure[:N], always, unless-stopped"},
    ),
    (("--runtime",), {"help": "Runtime to use for this container"}),
    (("--platform",), {"help": "Set platform if server is multi-platform capable"}),
    (
        ("--pull",),
        {
            "type": click.Choice(["always", "missing", "never"]),
            "default": "missing",
            "help": "Pull image before running",
        },
    ),
    (
        ("--network", "--net"),
        {"help": "Connect a container to a network (none, host, bridge, NAME)"},
    ),
    (
        ("--network-alias",),
        {"multiple": True, "help": "Add network-scoped alias for the container"},
    ),
    (("--ip",), {"help": "IPv4 address (e.g. 172.30.100.104)"}),
    (("--ip6",), {"help": "IPv6 address (e.g. 2001:db8::33)"}),
    (
        ("-P", "--publish-all"),
        {"is_flag": True, "help": "Publish all exposed ports to random ports"},
    ),
    (
        ("-p", "--publish"),
        {
            "multiple": True,
            "metavar": "[IP:][HOST:]PORT",
            "help": "Publish a container's port(s) to the host",
        },
    ),
    (("--expose",), {"multiple": True, "help": "Expose a port or a range of ports"}),
    (
        ("--add-host",),
        {"multiple": True, "metavar": "HOST:IP", "help": "Add a custom host-to-IP mapping"},
    ),
    (("--dns",), {"multiple": True, "help": "Set custom DNS servers"}),
    (("--device",), {"multiple": True, "help": "Add a host device to the container"}),
    (("--group-add",), {"multiple": True, "help": "Add additional groups to join"}),
    (("--shm-size",), {"help": "Size of /dev/shm"}),
    (("--sysctl",), {"multiple": True, "metavar": "KEY=VALUE", "help": "Sysctl options"}),
    (("--ipc",), {"help": "IPC mode to use"}),
    (("--pid",), {"help": "PID namespace to use"}),
    (("--stop-signal",), {"help": "Signal to stop the container"}),
    (("--stop-timeout",), {"type": int, "help": "Timeout (in seconds) to stop a container"}),
    (("--log-driver",), {"help": "Logging driver for the container"}),
    (("--log-opt",), {"multiple": True, "metavar": "KEY=VALUE", "help": "Log driver options"}),
    (("--health-cmd",), {"help": "Command to run to check health"}),
    (("--health-interval",), {"help": "Time between running the check (ms|s|m|h)"}),
    (("--health-timeout",), {"help": "Maximum time to allow one check to run (ms|s|m|h)"}),
    (
        ("--health-retries",),
        {"type": int, "help": "Consecutive failures needed to report unhealthy"},
    ),
    (
        ("--health-start-period",),
        {"help": "Start period for the container to initialize (ms|s|m|h)"},
    ),
    (
        ("--no-healthcheck",),
        {"is_flag": True, "help": "Disable any container-specified HEALTHCHECK"},
    ),
    (("--rm",), {"is_flag": True, "help": "Automatically remove the container when it exits"}),
    (("--cidfile",), {"help": "Write the container ID to the file"}),
]


def container_options(function: F) -> F:
    """Decorate a command with every run/create flag (in the order of --help)."""
    for decls, kwargs in reversed(OPTIONS):
        function = click.option(*decls, **kwargs)(function)
    return function


def _healthcheck(o: dict[str, Any]) -> dict[str, Any] | None:
    if o["no_healthcheck"]:
        if o["health_cmd"]:
            raise parsing.bad("--no-healthcheck", "", "conflicts with --health-cmd")
        return {"Test": ["NONE"]}
    check: dict[str, Any] = {}
    if o["health_cmd"]:
        check["Test"] = ["CMD-SHELL", o["health_cmd"]]
    for flag, key in (
        ("interval", "Interval"),
        ("timeout", "Timeout"),
        ("start_period", "StartPeriod"),
    ):
        value = o[f"health_{flag}"]
        if value:
            check[key] = parsing.duration_ns(f"--health-{flag.replace('_', '-')}", value)
    if o["health_retries"] is not None:
        if o["health_retries"] < 0:
            raise parsing.bad("--health-retries", str(o["health_retries"]), "cannot be negative")
        check["Retries"] = o["health_retries"]
    return check or None


def _mounts(
    o: dict[str, Any],
) -> tuple[list[str], dict[str, dict[str, Any]], list[dict[str, Any]], dict[str, str]]:
    binds, anonymous = [], {}
    for spec in o["volume"]:
        bind, path = parsing.volume(spec)
        if bind:
            binds.append(bind)
        else:
            anonymous[path] = {}
    mounts = [parsing.mount(spec) for spec in o["mount"]]
    tmpfs = dict(parsing.tmpfs(spec) for spec in o["tmpfs"])
    return binds, anonymous, mounts, tmpfs


def _ports(o: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], dict[str, list[dict[str, str]]]]:
    exposed: dict[str, dict[str, Any]] = {}
    bindings: dict[str, list[dict[str, str]]] = {}
    for spec in o["expose"]:
        key = spec if "/" in spec else f"{spec}/tcp"
        if not key.split("/")[0].isdigit():
            raise parsing.bad("--expose", spec, "expected PORT[/PROTOCOL]")
        exposed[key] = {}
    for spec in o["publish"]:
        key, binding = parsing.port(spec)
        exposed[key] = {}
        bindings.setdefault(key, []).append(binding or {})
    return exposed, bindings


def _limits(o: dict[str, Any]) -> dict[str, Any]:
    """--init, --memory, --memory-swap, --cpus, --pids-limit, --shm-size, --log-*."""
    limits: dict[str, Any] = {}
    if o["init"]:
        limits["Init"] = True
    if o["memory"]:
        limits["Memory"] = parsing.size("--memory", o["memory"])
    if o["memory_swap"]:
        swap = o["memory_swap"]
        limits["MemorySwap"] = -1 if swap == "-1" else parsing.size("--memory-swap", swap)
    if o["cpus"] is not None:
        if o["cpus"] < 0:
            raise parsing.bad("--cpus", str(o["cpus"]), "cannot be negative")
        limits["NanoCpus"] = int(o["cpus"] * 1e9)
    if o["pids_limit"] is not None:
        limits["PidsLimit"] = o["pids_limit"]
    if o["shm_size"]:
        limits["ShmSize"] = parsing.size("--shm-size", o["shm_size"])
    if o["log_driver"] or o["log_opt"]:
        limits["LogConfig"] = {
            "Type": o["log_driver"] or "",
            "Config": parsing.key_values("--log-opt", o["log_opt"]),
        }
    return limits


def _host_config(o: dict[str, Any], binds: list[str], mounts: list[dict[str, Any]],
                 tmpfs: dict[str, str], bindings: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    host_config: dict[str, Any] = {
        "Binds": binds or None,
        "Mounts": mounts or None,
        "Tmpfs": tmpfs or None,
        "ReadonlyRootfs": o["read_only"],
        "CapAdd": list(o["cap_add"]) or None,
        "CapDrop": list(o["cap_drop"]) or None,
        "Privileged": o["privileged"],
        "SecurityOpt": list(o["security_opt"]) or None,
        "Ulimits": [parsing.ulimit(spec) for spec in o["ulimit"]] or None,
        "RestartPolicy": parsing.restart_policy(o["restart"]),
        "AutoRemove": o["rm"],
        "NetworkMode": o["network"] or "default",
        "PortBindings": bindings or None,
        "PublishAllPorts": o["publish_all"] or None,
        "ExtraHosts": list(o["add_host"]) or None,
        "Dns": list(o["dns"]) or None,
        "Devices": [parsing.device(spec) for spec in o["device"]] or None,
        "GroupAdd": list(o["group_add"]) or None,
        "Sysctls": parsing.key_values("--sysctl", o["sysctl"]) or None,
        "IpcMode": o["ipc"] or "",
        "PidMode": o["pid"] or "",
        "Runtime": o["runtime"] or None,
        "CpuShares": o["cpu_shares"] or 0,
        **_limits(o),
    }
    if o["rm"] and host_config["RestartPolicy"]["Name"]:
        raise parsing.bad("--restart", o["restart"], "conflicts with --rm")
    return {key: value for key, value in host_config.items() if value is not None}


def _endpoint(o: dict[str, Any]) -> dict[str, Any]:
    """--network-alias, --ip and --ip6: the endpoint settings on the container's network."""
    addresses = {k: v for k, v in (("IPv4Address", o["ip"]), ("IPv6Address", o["ip6"])) if v}
    endpoint: dict[str, Any] = {}
    if o["network_alias"]:
        endpoint["Aliases"] = list(o["network_alias"])
    if addresses:
        endpoint["IPAMConfig"] = addresses
    return endpoint


def build_config(
    image: str, command: tuple[str, ...], o: dict[str, Any], detach: bool
) -> dict[str, Any]:
    """The body of POST /containers/create."""
    binds, anonymous, mounts, tmpfs = _mounts(o)
    exposed, bindings = _ports(o)
    interactive = o["interactive"]
    config: dict[str, Any] = {
        "Image": image,
        "Cmd": list(command) or None,
        "Hostname": o["hostname"] or "",
        "Domainname": o["domainname"] or "",
        "User": o["user"] or "",
        "Env": parsing.env_list(o["env"], o["env_file"]),
        "WorkingDir": o["workdir"] or "",
        "Labels": parsing.key_values("--label", o["label"]),
        "Tty": o["tty"],
        "OpenStdin": interactive,
        "StdinOnce": interactive and not detach,
        "AttachStdin": interactive and not detach,
        "AttachStdout": not detach,
        "AttachStderr": not detach,
        "ExposedPorts": exposed or None,
        "Volumes": anonymous or None,
        "HostConfig": _host_config(o, binds, mounts, tmpfs, bindings),
    }
    if o["entrypoint"] is not None:
        config["Entrypoint"] = [o["entrypoint"]]
    if o["stop_signal"]:
        config["StopSignal"] = o["stop_signal"]
    if o["stop_timeout"] is not None:
        config["StopTimeout"] = o["stop_timeout"]
    healthcheck = _healthcheck(o)
    if healthcheck:
        config["Healthcheck"] = healthcheck
    endpoint = _endpoint(o)
    if endpoint:
        config["NetworkingConfig"] = {"EndpointsConfig": {o["network"] or "default": endpoint}}
    return {key: value for key, value in config.items() if value is not None}
