"""A service's desired state in docker's ServiceSpec shape: validated and normalised in one
place, so that the store never holds a spec the scheduler or the agent cannot act on.

Porter's one addition rides on a label, so that the docker CLI can set it too:
`porter.autoscale=min=2,max=10,cpu=70%[,rps=N][,down-window=15s]`.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from porterd.cluster import restart
from porterd.errors import InvalidParameter

AUTOSCALE_LABEL = "porter.autoscale"
NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$")
CONSTRAINT = re.compile(r"^\s*([\w.-]+)\s*(==|!=)\s*(.+?)\s*$")
CONSTRAINT_KEYS = (
    "node.id",
    "node.hostname",
    "node.role",
    "node.platform.os",
    "node.platform.arch",
)
FAILURE_ACTIONS = ("pause", "continue", "rollback")
ORDERS = ("stop-first", "start-first")
PROTOCOLS = ("tcp", "udp", "sctp")


@dataclass(frozen=True)
class Constraint:
    """`node.labels.K==V`, `node.hostname!=x`...: `key` without the `node.` prefix."""

    key: str
    equal: bool
    value: str

    @classmethod
    def parse(cls, text: str) -> Constraint:
        match = CONSTRAINT.match(text)
        if match is None:
            raise InvalidParameter(
                f"invalid constraint {text!r}: expected KEY==VALUE or KEY!=VALUE"
            )
        key, operator, value = match.groups()
        if not (key in CONSTRAINT_KEYS or (key.startswith("node.labels.") and len(key) > 12)):
            raise InvalidParameter(
                f"invalid constraint {text!r}: the key must be node.labels.NAME or one of "
                + ", ".join(CONSTRAINT_KEYS)
            )
        return cls(key.removeprefix("node."), operator == "==", value)


AUTOSCALE_KEYS = ("min", "max", "cpu", "rps", "up-window", "down-window")
WINDOW = re.compile(r"^(\d+(?:\.\d+)?)(s|m)?$")


def _window(text: str, key: str) -> float:
    """A stabilisation window, `15s`, `5m` or seconds alone."""
    match = WINDOW.match(text)
    if match is None:
        raise InvalidParameter(f"invalid autoscale {key} {text!r}: expected seconds such as 15s")
    return float(match.group(1)) * (60 if match.group(2) == "m" else 1)


@dataclass(frozen=True)
class AutoscalePolicy:
    """`min=N,max=N,cpu=P%,rps=N[,up-window=D][,down-window=D]`: the stabilisation windows
    default to Kubernetes' HPA's, none up and 300 s down."""

    minimum: int
    maximum: int
    cpu_percent: float | None = None
    rps: float | None = None
    up_window: float = 0.0
    down_window: float = 300.0

    @classmethod
    def parse(cls, text: str) -> AutoscalePolicy:
        fields: dict[str, str] = {}
        for item in text.split(","):
            key, sep, value = item.partition("=")
            if not sep or key.strip() not in AUTOSCALE_KEYS:
                raise InvalidParameter(
                    f"invalid autoscale {text!r}: expected min=N,max=N and cpu=P% and/or rps=N"
                    " (and up-window=D, down-window=D)"
                )
            fields[key.strip()] = value.strip()
        try:
            minimum, maximum = int(fields["min"]), int(fields["max"])
            cpu = float(fields["cpu"].removesuffix("%")) if "cpu" in fields else None
            rps = float(fields["rps"]) if "rps" in fields else None
        except (KeyError, ValueError) as error:
            raise InvalidParameter(
                f"invalid autoscale {text!r}: min and max are whole numbers, cpu a percentage"
            ) from error
        windows = {
            key.replace("-", "_"): _window(fields[key], key)
            for key in ("up-window", "down-window")
            if key in fields
        }
        if not 0 <= minimum <= maximum or maximum == 0:
            raise InvalidParameter(f"invalid autoscale {text!r}: needs 0 <= min <= max, max > 0")
        if cpu is None and rps is None:
            raise InvalidParameter(f"invalid autoscale {text!r}: give a cpu=P% or rps=N target")
        if (cpu is not None and cpu <= 0) or (rps is not None and rps <= 0):
            raise InvalidParameter(f"invalid autoscale {text!r}: targets must be positive")
        return cls(minimum, maximum, cpu, rps, **windows)


def _object(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidParameter(f"invalid service spec: {where} must be an object")
    return value


def _whole(value: Any, where: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameter(f"invalid service spec: {where} must be a whole number")
    if value < minimum:
        raise InvalidParameter(f"invalid service spec: {where} must be at least {minimum}")
    return value


def normalized(spec: Any) -> dict[str, Any]:
    """`spec` checked and with docker's defaults filled in; `InvalidParameter` names the fault."""
    spec = copy.deepcopy(_object(spec, "the spec"))
    name = spec.get("Name")
    if not isinstance(name, str) or not NAME.match(name):
        raise InvalidParameter(
            f"invalid service name {name!r}: letters, digits, '_', '.' and '-', up to 63"
        )
    template = spec["TaskTemplate"] = _object(spec.get("TaskTemplate"), "TaskTemplate")
    container = template["ContainerSpec"] = _object(
        template.get("ContainerSpec"), "TaskTemplate.ContainerSpec"
    )
    image = container.get("Image")
    if not isinstance(image, str) or not image.strip():
        raise InvalidParameter("invalid service spec: TaskTemplate.ContainerSpec.Image is required")
    for key in ("Args", "Command", "Env"):
        value = container.get(key)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(item, str) for item in value)
        ):
            raise InvalidParameter(
                f"invalid service spec: ContainerSpec.{key} must be a list of strings"
            )
    placement = template["Placement"] = _object(template.get("Placement"), "Placement")
    constraints = placement.get("Constraints") or []
    if not isinstance(constraints, list):
        raise InvalidParameter("invalid service spec: Placement.Constraints must be a list")
    for text in constraints:
        Constraint.parse(str(text))
    resources = _object(template.get("Resources"), "Resources")
    for kind in ("Reservations", "Limits"):
        for key in ("NanoCPUs", "MemoryBytes"):
            value = _object(resources.get(kind), kind).get(key)
            if value is not None:
                _whole(value, f"Resources.{kind}.{key}")
    policy = restart.normalized(template.get("RestartPolicy"))
    if policy is not None:
        template["RestartPolicy"] = policy
    _normalize_networks(spec, template)
    _normalize_mode(spec)
    _normalize_ports(spec)
    for key in ("UpdateConfig", "RollbackConfig"):
        spec[key] = update_config(_object(spec.get(key), key), key)
    labels = _object(spec.get("Labels"), "Labels")
    spec["Labels"] = labels
    if AUTOSCALE_LABEL in labels:
        _check_autoscale(spec, AutoscalePolicy.parse(str(labels[AUTOSCALE_LABEL])))
    return spec


def _check_autoscale(spec: dict[str, Any], policy: AutoscalePolicy) -> None:
    """Autoscaling changes a replica count: a global service has none. Its rps target is
    held against the new connections the routing mesh counts on the service's published
    ports: a service without one would never be measured."""
    if "Global" in spec["Mode"]:
        raise InvalidParameter("autoscale can only be used with replicated mode")
    ingress = [
        port
        for port in spec["EndpointSpec"]["Ports"]
        if port["PublishedPort"] and port["PublishMode"] == "ingress"
    ]
    if policy.rps is not None and not ingress:
        raise InvalidParameter(
            "autoscale rps needs a published port: it counts the new connections per second"
            " to the service's published ports"
        )


def _normalize_networks(spec: dict[str, Any], template: dict[str, Any]) -> None:
    """TaskTemplate.Networks: [{Target: NAME or ID, Aliases: [...]}] (the spec's top-level
    Networks, which older clients send, moves there)."""
    networks = template.get("Networks") or spec.pop("Networks", None) or []
    if not isinstance(networks, list):
        raise InvalidParameter("invalid service spec: TaskTemplate.Networks must be a list")
    targets = set()
    for network in networks:
        network = _object(network, "a network attachment")
        target = network.get("Target")
        aliases = network.get("Aliases") or []
        if not isinstance(target, str) or not target:
            raise InvalidParameter("invalid service spec: a network attachment needs a Target")
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise InvalidParameter("invalid service spec: a network's Aliases are strings")
        if target in targets:
            raise InvalidParameter(f"invalid service spec: network {target} is attached twice")
        targets.add(target)
    if networks:
        template["Networks"] = networks


def _normalize_mode(spec: dict[str, Any]) -> None:
    mode = _object(spec.get("Mode"), "Mode") or {"Replicated": {"Replicas": 1}}
    if set(mode) - {"Replicated", "Global"} or len(mode) != 1:
        raise InvalidParameter("invalid service spec: Mode is Replicated or Global")
    if "Replicated" in mode:
        replicated = _object(mode["Replicated"], "Mode.Replicated")
        replicas = replicated.get("Replicas", 1)
        if isinstance(replicas, int) and not isinstance(replicas, bool) and replicas < 0:
            raise InvalidParameter(f"invalid replica count {replicas}: it cannot be negative")
        mode["Replicated"] = {"Replicas": _whole(replicas, "Mode.Replicated.Replicas")}
    else:
        mode["Global"] = {}
    spec["Mode"] = mode


def _normalize_ports(spec: dict[str, Any]) -> None:
    endpoint = spec["EndpointSpec"] = _object(spec.get("EndpointSpec"), "EndpointSpec")
    endpoint.setdefault("Mode", "vip")
    ports = endpoint.get("Ports") or []
    if not isinstance(ports, list):
        raise InvalidParameter("invalid service spec: EndpointSpec.Ports must be a list")
    seen: set[tuple[str, int]] = set()
    for port in ports:
        port = _object(port, "a port")
        port["Protocol"] = protocol = port.get("Protocol") or "tcp"
        if protocol not in PROTOCOLS:
            raise InvalidParameter(f"invalid port protocol {protocol!r}: tcp, udp or sctp")
        _whole(port.get("TargetPort"), "the port's TargetPort", 1)
        published = port.get("PublishedPort") or 0
        port["PublishedPort"] = _whole(published, "the port's PublishedPort")
        if published > 65535 or port["TargetPort"] > 65535:
            raise InvalidParameter(f"invalid port {published}: ports go up to 65535")
        port.setdefault("PublishMode", "ingress")
        if published and (protocol, published) in seen:
            raise InvalidParameter(f"port {published}/{protocol} is published twice")
        seen.add((protocol, published))
    endpoint["Ports"] = ports


def update_config(config: dict[str, Any], where: str) -> dict[str, Any]:
    config = dict(config)
    config["Parallelism"] = _whole(config.get("Parallelism", 1), f"{where}.Parallelism")
    config["Delay"] = _whole(config.get("Delay", 0), f"{where}.Delay")
    config["Monitor"] = _whole(config.get("Monitor", 5_000_000_000), f"{where}.Monitor")
    ratio = config.get("MaxFailureRatio", 0)
    if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 <= ratio <= 1:
        raise InvalidParameter(f"invalid {where}.MaxFailureRatio {ratio!r}: a number from 0 to 1")
    config["MaxFailureRatio"] = ratio
    action = config.setdefault("FailureAction", "pause")
    if action not in FAILURE_ACTIONS:
        raise InvalidParameter(f"invalid {where}.FailureAction {action!r}: pause or rollback")
    order = config.setdefault("Order", "stop-first")
    if order not in ORDERS:
        raise InvalidParameter(f"invalid {where}.Order {order!r}: stop-first or start-first")
    return config


def published_ports(spec: dict[str, Any]) -> list[tuple[str, int]]:
    """(protocol, port) of each port `spec` publishes on every node."""
    return [
        (port["Protocol"], port["PublishedPort"])
        for port in spec.get("EndpointSpec", {}).get("Ports", [])
        if port.get("PublishedPort")
    ]


def replicas(spec: dict[str, Any]) -> int | None:
    """The replica count, or None for a global service."""
    mode = spec.get("Mode", {})
    return None if "Global" in mode else int(mode.get("Replicated", {}).get("Replicas", 1))


def constraints(spec: dict[str, Any]) -> list[Constraint]:
    placement = spec.get("TaskTemplate", {}).get("Placement", {})
    return [Constraint.parse(text) for text in placement.get("Constraints") or []]


def autoscale_policy(spec: dict[str, Any]) -> AutoscalePolicy | None:
    text = spec.get("Labels", {}).get(AUTOSCALE_LABEL)
    return AutoscalePolicy.parse(text) if text else None
