"""Checks of a config against this host, run before anything is created.

Each impossible request fails here with one line, so a failed create has nothing to undo.
"""

from __future__ import annotations

from porter_runtime import process
from porter_runtime.capabilities import check_names
from porter_runtime.errors import ConfigError
from porter_runtime.namespaces import NamespacePlan

_IPC_SYSCTLS = frozenset(
    {
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    }
)


def sysctl_namespace(key: str) -> str | None:
    """The namespace type a sysctl belongs to, or None if it is not namespaced."""
    if key in _IPC_SYSCTLS or key.startswith("fs.mqueue."):
        return "ipc"
    if key.startswith("net."):
        return "network"
    if key in ("kernel.hostname", "kernel.domainname"):
        return "uts"
    return None


def check_config(config: dict, plan: NamespacePlan, console_socket: str | None) -> None:
    linux = config.get("linux") or {}
    proc = config.get("process")
    if proc is not None:
        _check_process(proc, linux, console_socket)
    elif console_socket:
        raise ConfigError("--console-socket", "given but config.json has no process")
    if (config.get("hostname") or config.get("domainname")) and "uts" not in plan.types:
        raise ConfigError("hostname", "setting it needs a uts namespace in linux.namespaces")
    # Mappings describe a user namespace: a new one (we write them) or one joined by path
    # (they are already in place; runc's configs carry them there too).
    for key in ("uidMappings", "gidMappings"):
        if key in linux and "user" not in plan.types:
            raise ConfigError(f"linux.{key}", "mappings need a user namespace")
    if plan.has_new("user") and not (linux.get("uidMappings") and linux.get("gidMappings")):
        raise ConfigError(
            "linux.namespaces user", "a new user namespace needs uidMappings and gidMappings"
        )
    if plan.has_new("user"):  # maps beyond the runtime's own ids need newuidmap/newgidmap
        from porter_runtime.idmap import check_helpers

        check_helpers(linux)
    for key in linux.get("sysctl") or {}:
        kind = sysctl_namespace(key)
        if kind is None:
            raise ConfigError(f"sysctl {key}", "is not namespaced: it would change the host")
        if kind not in plan.types:
            raise ConfigError(f"sysctl {key}", f"needs a {kind} namespace in linux.namespaces")


def _check_process(proc: dict, linux: dict, console_socket: str | None) -> None:
    """The container process, when the config has one (without, create still succeeds and
    only start fails, as the runtime-spec says)."""
    if not proc.get("args"):
        raise ConfigError("config.json /process/args", "must name the program to run")
    if not proc.get("cwd", "").startswith("/"):
        raise ConfigError("config.json /process/cwd", "must be an absolute path")
    if proc.get("terminal") and not console_socket:
        raise ConfigError("process.terminal", "a terminal needs --console-socket")
    if not proc.get("terminal") and console_socket:
        raise ConfigError("--console-socket", "given but process.terminal is false")
    check_names(proc.get("capabilities"))
    process.check_rlimits(proc.get("rlimits") or [])
    process.check_lsm(proc, linux)
    process.check_scheduling(proc)
