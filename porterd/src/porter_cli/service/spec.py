"""The flags `service create` and `service update` share, turned into ServiceSpec fields;
each bad value is one line naming its flag (exit 125)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from porter_cli.container import parsing
from porter_cli.errors import CliError

F = TypeVar("F", bound=Callable[..., Any])
AUTOSCALE_LABEL = "porter.autoscale"

SHARED = [
    (("--replicas",), {"type": int, "help": "Number of tasks"}),
    (("--reserve-cpu",), {"metavar": "CPUS", "help": "Reserve CPUs"}),
    (("--reserve-memory",), {"metavar": "BYTES", "help": "Reserve memory"}),
    (("--limit-cpu",), {"metavar": "CPUS", "help": "Limit CPUs"}),
    (("--limit-memory",), {"metavar": "BYTES", "help": "Limit memory"}),
    (("--health-cmd",), {"help": "Command to run to check health"}),
    (("--health-interval",), {"help": "Time between running the check (ms|s|m|h)"}),
    (("--health-timeout",), {"help": "Maximum time to allow one check to run (ms|s|m|h)"}),
    (("--health-retries",), {"type": int, "help": "Consecutive failures to report unhealthy"}),
    (("--update-parallelism",), {"type": int, "help": "Maximum number of tasks updated at once"}),
    (("--update-delay",), {"help": "Delay between updates (ns|us|ms|s|m|h)"}),
    (
        ("--update-order",),
        {"type": click.Choice(["stop-first", "start-first"]), "help": "Update order"},
    ),
    (
        ("--update-failure-action",),
        {
            "type": click.Choice(["pause", "continue", "rollback"]),
            "help": "Action on update failure",
        },
    ),
    (
        ("--update-monitor",),
        {"help": "Duration after each task update to monitor for failure (ns|us|ms|s|m|h)"},
    ),
    (
        ("--update-max-failure-ratio",),
        {"type": float, "help": "Failure rate to tolerate during an update (0 to 1)"},
    ),
    (
        ("--restart-condition",),
        {
            "type": click.Choice(["none", "on-failure", "any"]),
            "help": 'Restart when condition is met ("none", "on-failure", "any") (default "any")',
        },
    ),
    (
        ("--restart-delay",),
        {"help": "Delay between restart attempts (ns|us|ms|s|m|h) (default 5s)"},
    ),
    (
        ("--restart-max-attempts",),
        {"type": int, "help": "Maximum number of restarts before giving up"},
    ),
    (
        ("--restart-window",),
        {"help": "Window used to evaluate the restart policy (ns|us|ms|s|m|h)"},
    ),
    (
        ("--autoscale",),
        {
            "metavar": "min=N,max=N,cpu=P%",
            "help": "Scale a replicated service between min and max with the load: cpu=P% of"
            " one CPU per task, and/or rps=N new connections per second per task to its"
            " published ports, counted by the routing mesh on every node (a request each"
            " only for clients that open a connection per request); up-window= and"
            " down-window= set the stabilisation windows, 0s and 300s by default",
        },
    ),
    (("-d", "--detach"), {"is_flag": True, "help": "Exit immediately (porter never waits)"}),
]


def shared_options(function: F) -> F:
    for decls, kwargs in reversed(SHARED):
        function = click.option(*decls, **kwargs)(function)
    return function


def cpus(flag: str, value: str) -> int:
    try:
        number = float(value)
    except ValueError:
        raise parsing.bad(flag, value, "expected a number of CPUs such as 0.5") from None
    if number < 0:
        raise parsing.bad(flag, value, "cannot be negative")
    return int(number * 1_000_000_000)


def publish(spec: str) -> dict[str, Any]:
    """-p PUBLISHED:TARGET[/PROTO] or -p published=N,target=N[,protocol=P,mode=M]."""
    if "=" in spec:
        fields = dict(item.partition("=")[::2] for item in spec.split(","))
        published, target = fields.get("published", "0"), fields.get("target", "")
        protocol, mode = fields.get("protocol", "tcp"), fields.get("mode", "ingress")
    else:
        ports, _, protocol = spec.partition("/")
        published, _, target = ports.rpartition(":")
        protocol, mode = protocol or "tcp", "ingress"
    if not target.isdigit() or not (published or "0").isdigit():
        raise parsing.bad("--publish", spec, "expected PUBLISHED:TARGET[/PROTOCOL]")
    return {
        "Protocol": protocol,
        "TargetPort": int(target),
        "PublishedPort": int(published or 0),
        "PublishMode": mode,
    }


def _resources(spec: dict[str, Any], o: dict[str, Any]) -> None:
    resources = spec["TaskTemplate"].setdefault("Resources", {})
    for flag, kind, key in (
        ("reserve_cpu", "Reservations", "NanoCPUs"),
        ("limit_cpu", "Limits", "NanoCPUs"),
        ("reserve_memory", "Reservations", "MemoryBytes"),
        ("limit_memory", "Limits", "MemoryBytes"),
    ):
        value = o.get(flag)
        if value is None:
            continue
        name = "--" + flag.replace("_", "-")
        parsed = cpus(name, value) if key == "NanoCPUs" else parsing.size(name, value)
        resources.setdefault(kind, {})[key] = parsed


def _healthcheck(container: dict[str, Any], o: dict[str, Any]) -> None:
    check = dict(container.get("Healthcheck") or {})
    if o.get("health_cmd"):
        check["Test"] = ["CMD-SHELL", o["health_cmd"]]
    for flag, key in (("interval", "Interval"), ("timeout", "Timeout")):
        if o.get(f"health_{flag}"):
            check[key] = parsing.duration_ns(f"--health-{flag}", o[f"health_{flag}"])
    if o.get("health_retries") is not None:
        check["Retries"] = o["health_retries"]
    if check:
        container["Healthcheck"] = check


def _update_config(spec: dict[str, Any], o: dict[str, Any]) -> None:
    config = spec.setdefault("UpdateConfig", {})
    if o.get("update_parallelism") is not None:
        if o["update_parallelism"] < 0:
            raise parsing.bad("--update-parallelism", str(o["update_parallelism"]), "negative")
        config["Parallelism"] = o["update_parallelism"]
    if o.get("update_delay"):
        config["Delay"] = parsing.duration_ns("--update-delay", o["update_delay"])
    if o.get("update_order"):
        config["Order"] = o["update_order"]
    if o.get("update_failure_action"):
        config["FailureAction"] = o["update_failure_action"]
    if o.get("update_monitor"):
        config["Monitor"] = parsing.duration_ns("--update-monitor", o["update_monitor"])
    ratio = o.get("update_max_failure_ratio")
    if ratio is not None:
        if not 0 <= ratio <= 1:
            raise parsing.bad("--update-max-failure-ratio", str(ratio), "expected 0 to 1")
        config["MaxFailureRatio"] = ratio


def _restart_policy(template: dict[str, Any], o: dict[str, Any]) -> None:
    """TaskTemplate.RestartPolicy with the restart flags given, as docker's: only when one
    is, each over the policy the service had."""
    policy = dict(template.get("RestartPolicy") or {})
    if o.get("restart_condition"):
        policy["Condition"] = o["restart_condition"]
    for flag, key in (("delay", "Delay"), ("window", "Window")):
        if o.get(f"restart_{flag}"):
            policy[key] = parsing.duration_ns(f"--restart-{flag}", o[f"restart_{flag}"])
    attempts = o.get("restart_max_attempts")
    if attempts is not None:
        if attempts < 0:
            raise parsing.bad("--restart-max-attempts", str(attempts), "cannot be negative")
        policy["MaxAttempts"] = attempts
    if policy:
        template["RestartPolicy"] = policy


def apply_shared(spec: dict[str, Any], o: dict[str, Any]) -> dict[str, Any]:
    """`spec` with the shared flags that were given applied to it."""
    if o.get("replicas") is not None:
        if o["replicas"] < 0:
            raise CliError(f"invalid replica count {o['replicas']}: it cannot be negative", 125)
        if "Global" in spec.get("Mode", {}):
            raise CliError("--replicas can only be used with a replicated service", 125)
        spec["Mode"] = {"Replicated": {"Replicas": o["replicas"]}}
    _resources(spec, o)
    _healthcheck(spec["TaskTemplate"]["ContainerSpec"], o)
    _update_config(spec, o)
    _restart_policy(spec["TaskTemplate"], o)
    if o.get("autoscale"):
        spec.setdefault("Labels", {})[AUTOSCALE_LABEL] = o["autoscale"]
    return spec
