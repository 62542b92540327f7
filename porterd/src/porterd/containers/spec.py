"""A container's config.json: the image's conversion (`porter_image.convert`), then the
Engine API's Config and HostConfig applied to it, as dockerd's `createSpec` does.

`bundle_config` is pure (a rootfs to resolve the user in, the record, the mount points): it
is unit-tested without running anything. What it sets beyond `porter-image unpack`'s config:
the terminal, hostname, docker's default capabilities and CapAdd/CapDrop/Privileged (with
the host's devices), the default seccomp profile (or SecurityOpt's) and no-new-privileges,
resources (memory, CPU, pids), ulimits, the init, mounts (volumes, binds, tmpfs,
/etc/hostname, /etc/hosts, /etc/resolv.conf) and the network namespace for NetworkMode.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from porter_image.convert import runtime_config
from porter_image.runtime_defaults import DOCKER_CAPABILITY_NAMES
from porter_specs.models import ContainerConfig, ImageConfig
from porterd.containers.devices import host_devices
from porterd.containers.mounts import oci_mounts
from porterd.containers.record import Container, ContainerPaths
from porterd.containers.seccomp import docker_profile_to_oci, profile_to_oci
from porterd.containers.seccomp_default import default_profile
from porterd.errors import InvalidParameter

DEFAULT_CAPABILITIES = DOCKER_CAPABILITY_NAMES  # dockerd's 14, shared with the builder's RUN
ALL_CAPABILITIES = (
    *DEFAULT_CAPABILITIES,
    *(
        f"CAP_{name}"
        for name in [
            "DAC_READ_SEARCH",
            "LINUX_IMMUTABLE",
            "NET_BROADCAST",
            "NET_ADMIN",
            "IPC_LOCK",
            "IPC_OWNER",
            "SYS_MODULE",
            "SYS_RAWIO",
            "SYS_PTRACE",
            "SYS_PACCT",
            "SYS_ADMIN",
            "SYS_BOOT",
            "SYS_NICE",
            "SYS_RESOURCE",
            "SYS_TIME",
            "SYS_TTY_CONFIG",
            "LEASE",
            "AUDIT_CONTROL",
            "MAC_OVERRIDE",
            "MAC_ADMIN",
            "SYSLOG",
            "WAKE_ALARM",
            "BLOCK_SUSPEND",
            "AUDIT_READ",
            "PERFMON",
            "BPF",
            "CHECKPOINT_RESTORE",
        ]
    ),
)
INIT_BINARY = "/usr/bin/docker-init"  # Debian's tini-static, as dockerd's --init uses it
INIT_PATH = "/sbin/docker-init"
CPU_PERIOD = 100_000


def bundle_config(container: Container, rootfs: Path, paths: ContainerPaths) -> dict[str, Any]:
    """The runtime config (as JSON data) of `container`, whose root filesystem is `rootfs`."""
    config, host = container.config, container.host_config
    image = ImageConfig.from_json(container.image_config)
    wanted = dataclasses.replace(
        ContainerConfig.from_json(config), volumes=(), exposed_ports=(), stop_signal=""
    )
    converted = runtime_config(dataclasses.replace(image, config=wanted), rootfs)
    document = converted.to_json()
    process = document["process"]
    process["terminal"] = bool(config.get("Tty"))
    size = host.get("ConsoleSize")
    if process["terminal"] and isinstance(size, list) and len(size) == 2 and all(size):
        process["consoleSize"] = {"height": int(size[0]), "width": int(size[1])}
    process["args"] = _args(container)
    hostname = config.get("Hostname") or container.short_id
    process["env"] = _env(process["env"], hostname, bool(config.get("Tty")))
    process["noNewPrivileges"] = False
    document["hostname"] = hostname
    document["root"] = {"path": str(rootfs), "readonly": bool(host.get("ReadonlyRootfs"))}
    document["annotations"] = {
        **document.get("annotations", {}),
        "org.opencontainers.image.stopSignal": config.get("StopSignal") or "SIGTERM",
    }
    linux = document["linux"]
    linux["cgroupsPath"] = f"/porter/{container.id}"
    _apply_security(process, linux, host)
    _apply_resources(linux, host)
    _apply_ulimits(process, host)
    _apply_network(linux, host)
    if host.get("ShmSize"):
        _set_shm_size(document["mounts"], int(host["ShmSize"]))
    if host.get("Privileged"):
        _unprivilege_sysfs(document["mounts"])
    document["mounts"] = [
        *document["mounts"],
        *_etc_mounts(paths, host),
        *oci_mounts(container.mounts),
        *([_init_mount()] if host.get("Init") else []),
    ]
    if host.get("OomScoreAdj"):
        process["oomScoreAdj"] = int(host["OomScoreAdj"])
    if host.get("Sysctls"):
        linux["sysctl"] = dict(host["Sysctls"])
    return document


def _args(container: Container) -> list[str]:
    args = container.args
    if not args:
        raise InvalidParameter("No command specified")
    if container.host_config.get("Init"):
        return [INIT_PATH, "--", *args]
    return args


def _env(env: list[str], hostname: str, tty: bool) -> list[str]:
    """dockerd's environment: PATH, HOSTNAME, TERM only for a terminal, then the container's."""
    kept = [entry for entry in env if tty or entry != "TERM=xterm"]
    if not any(entry.startswith("HOSTNAME=") for entry in kept):
        kept.insert(1, f"HOSTNAME={hostname}")
    return kept


def capabilities_for(host: dict[str, Any]) -> list[str]:
    """The capability set of a container's processes: docker's defaults, CapAdd, CapDrop."""
    if host.get("Privileged"):
        return list(ALL_CAPABILITIES)
    caps = list(DEFAULT_CAPABILITIES)
    add = [_capability(name) for name in host.get("CapAdd") or []]
    drop = [_capability(name) for name in host.get("CapDrop") or []]
    if "CAP_ALL" in drop:
        caps = []
    caps += [cap for cap in (ALL_CAPABILITIES if "CAP_ALL" in add else add) if cap not in caps]
    return [cap for cap in caps if cap not in drop or cap in add]


def _capability(name: str) -> str:
    full = name.upper() if name.upper().startswith("CAP_") else f"CAP_{name.upper()}"
    if full != "CAP_ALL" and full not in ALL_CAPABILITIES:
        raise InvalidParameter(f"unknown capability: {name!r}")
    return full


def _apply_security(process: dict[str, Any], linux: dict[str, Any], host: dict[str, Any]) -> None:
    caps = capabilities_for(host)
    process["capabilities"] = {"bounding": caps, "effective": caps, "permitted": caps}
    privileged = bool(host.get("Privileged"))
    if privileged:
        linux["maskedPaths"] = []
        linux["readonlyPaths"] = []
        linux.setdefault("resources", {})["devices"] = [{"allow": True, "access": "rwm"}]
        linux["devices"] = host_devices()
    seccomp = "" if privileged else "builtin"
    for option in host.get("SecurityOpt") or []:
        key, sep, value = option.partition("=" if "=" in option else ":")
        if key == "no-new-privileges":
            process["noNewPrivileges"] = value in ("", "true") if sep else True
        elif key == "seccomp":
            seccomp = value if not privileged else ""
        elif key in ("label", "apparmor"):
            continue  # no LSM is configured by porterd; dockerd ignores them likewise then
        else:
            raise InvalidParameter(f"invalid --security-opt: {option!r}")
    if seccomp == "builtin":
        linux["seccomp"] = profile_to_oci(default_profile(), caps)
    elif seccomp and seccomp != "unconfined":
        linux["seccomp"] = docker_profile_to_oci(seccomp, caps)


def _apply_resources(linux: dict[str, Any], host: dict[str, Any]) -> None:
    linux.setdefault("resources", {}).update(resources_for(host))


def resources_for(host: dict[str, Any]) -> dict[str, Any]:
    """The `linux.resources` of HostConfig's limits (also what `update` sends the runtime)."""
    resources: dict[str, Any] = {}
    memory = {}
    if host.get("Memory"):
        memory["limit"] = int(host["Memory"])
    if host.get("MemoryReservation"):
        memory["reservation"] = int(host["MemoryReservation"])
    if host.get("MemorySwap"):
        memory["swap"] = int(host["MemorySwap"])
    if memory:
        resources["memory"] = memory
    cpu: dict[str, Any] = {}
    if host.get("NanoCpus") and host.get("CpuQuota"):
        raise InvalidParameter("Conflicting options: Nano CPUs and CPU Period cannot both be set")
    if host.get("NanoCpus"):
        cpu["period"] = CPU_PERIOD
        cpu["quota"] = int(host["NanoCpus"]) * CPU_PERIOD // 1_000_000_000
    if host.get("CpuQuota"):
        cpu["quota"] = int(host["CpuQuota"])
        cpu["period"] = int(host.get("CpuPeriod") or CPU_PERIOD)
    if host.get("CpuShares"):
        cpu["shares"] = int(host["CpuShares"])
    if host.get("CpusetCpus"):
        cpu["cpus"] = str(host["CpusetCpus"])
    if cpu:
        resources["cpu"] = cpu
    if host.get("PidsLimit") and int(host["PidsLimit"]) > 0:
        resources["pids"] = {"limit": int(host["PidsLimit"])}
    return resources


def _apply_ulimits(process: dict[str, Any], host: dict[str, Any]) -> None:
    limits = {limit["type"]: limit for limit in process.get("rlimits", [])}
    for ulimit in host.get("Ulimits") or []:
        name = str(ulimit.get("Name", "")).upper()
        if not name.isalpha():
            raise InvalidParameter(f"invalid ulimit: {ulimit!r}")
        soft, hard = int(ulimit.get("Soft", 0)), int(ulimit.get("Hard", 0))
        if soft > hard:
            raise InvalidParameter(f"ulimit {name.lower()}: soft limit {soft} above hard {hard}")
        limits[f"RLIMIT_{name}"] = {"type": f"RLIMIT_{name}", "soft": soft, "hard": hard}
    process["rlimits"] = list(limits.values())


def _apply_network(linux: dict[str, Any], host: dict[str, Any]) -> None:
    mode = host.get("NetworkMode") or "default"
    if mode == "host":
        linux["namespaces"] = [ns for ns in linux["namespaces"] if ns["type"] != "network"]


def _set_shm_size(mounts: list[dict[str, Any]], size: int) -> None:
    for mount in mounts:
        if mount["destination"] == "/dev/shm":
            options = [o for o in mount.get("options", []) if not o.startswith("size=")]
            mount["options"] = [*options, f"size={size}"]


def _unprivilege_sysfs(mounts: list[dict[str, Any]]) -> None:
    """A privileged container gets /sys and its cgroups writable, as with dockerd."""
    for mount in mounts:
        if mount["destination"] in ("/sys", "/sys/fs/cgroup"):
            mount["options"] = [o for o in mount.get("options", []) if o != "ro"]


def _etc_mounts(paths: ContainerPaths, host: dict[str, Any]) -> list[dict[str, Any]]:
    readonly = ["ro"] if host.get("ReadonlyRootfs") else []
    return [
        {
            "destination": f"/etc/{name}",
            "type": "bind",
            "source": str(source),
            "options": ["rbind", "rprivate", *readonly],
        }
        for name, source in (
            ("hostname", paths.hostname),
            ("hosts", paths.hosts),
            ("resolv.conf", paths.resolv_conf),
        )
    ]


def _init_mount() -> dict[str, Any]:
    return {
        "destination": INIT_PATH,
        "type": "bind",
        "source": INIT_BINARY,
        "options": ["bind", "ro", "rprivate"],
    }
