"""Typed model of a runtime-spec v1.2 config.json (config.md), the parts runtimes use.

`RuntimeConfig.from_json` takes a parsed config (validate it first with
`porter_specs.validate.validate(document, "runtime-config")` for problems with pointers);
`to_json` gives a mapping that encodes back to an equivalent config. Unknown keys are dropped.
The Linux section's models live in `porter_specs.runtime_linux` and are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from porter_specs.canonical import canonical_json, load_json
from porter_specs.json_model import JsonModel, key
from porter_specs.runtime_linux import (
    CPU,
    BlockIO,
    Device,
    DeviceRule,
    HugepageLimit,
    IDMapping,
    IntelRdt,
    InterfacePriority,
    Linux,
    Memory,
    Namespace,
    Network,
    Personality,
    Pids,
    Rdma,
    Resources,
    Seccomp,
    SeccompArg,
    SeccompSyscall,
    ThrottleDevice,
    TimeOffset,
    WeightDevice,
)

OCI_VERSION = "1.2.0"

__all__ = [
    "CPU",
    "OCI_VERSION",
    "BlockIO",
    "CPUAffinity",
    "Capabilities",
    "ConsoleSize",
    "Device",
    "DeviceRule",
    "Hook",
    "Hooks",
    "HugepageLimit",
    "IDMapping",
    "IOPriority",
    "IntelRdt",
    "InterfacePriority",
    "Linux",
    "Memory",
    "Mount",
    "Namespace",
    "Network",
    "Personality",
    "Pids",
    "Process",
    "Rdma",
    "Resources",
    "Rlimit",
    "Root",
    "RuntimeConfig",
    "Scheduler",
    "Seccomp",
    "SeccompArg",
    "SeccompSyscall",
    "ThrottleDevice",
    "TimeOffset",
    "User",
    "WeightDevice",
]


class _ConfigModel(JsonModel):
    _what = "runtime config"


@dataclass(frozen=True)
class Root(_ConfigModel):
    """The container's root filesystem, absolute or relative to the bundle."""

    path: str
    readonly: bool = False


@dataclass(frozen=True)
class Mount(_ConfigModel):
    """A mount, applied in the listed order after the root."""

    destination: str
    type: str | None = None
    source: str | None = None
    options: tuple[str, ...] = ()
    uid_mappings: tuple[IDMapping, ...] = ()
    gid_mappings: tuple[IDMapping, ...] = ()


@dataclass(frozen=True)
class User(_ConfigModel):
    """The ids the process runs as, in the container's user namespace."""

    uid: int
    gid: int
    umask: int | None = None
    additional_gids: tuple[int, ...] = ()


@dataclass(frozen=True)
class ConsoleSize(_ConfigModel):
    """The terminal's size in characters."""

    height: int
    width: int


@dataclass(frozen=True)
class Capabilities(_ConfigModel):
    """The capability sets kept for the process ("CAP_CHOWN"...)."""

    bounding: tuple[str, ...] = ()
    effective: tuple[str, ...] = ()
    inheritable: tuple[str, ...] = ()
    permitted: tuple[str, ...] = ()
    ambient: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rlimit(_ConfigModel):
    """A POSIX resource limit ("RLIMIT_NOFILE")."""

    type: str
    hard: int
    soft: int


@dataclass(frozen=True)
class Scheduler(_ConfigModel):
    """sched_setattr(2) parameters."""

    policy: str
    nice: int | None = None
    priority: int | None = None
    flags: tuple[str, ...] = ()
    runtime: int | None = None
    deadline: int | None = None
    period: int | None = None


@dataclass(frozen=True)
class IOPriority(_ConfigModel):
    """ioprio_set(2) class and level."""

    class_: str
    priority: int


@dataclass(frozen=True)
class CPUAffinity(_ConfigModel):
    """CPUs an exec'd process runs on before and after joining the container's cgroup."""

    initial: str | None = None
    final: str | None = None


@dataclass(frozen=True)
class Process(_ConfigModel):
    """The container process: what to run, as whom, with which limits and privileges."""

    cwd: str
    args: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    terminal: bool = False
    console_size: ConsoleSize | None = None
    user: User = field(default_factory=lambda: User(0, 0))
    capabilities: Capabilities | None = None
    rlimits: tuple[Rlimit, ...] = ()
    no_new_privileges: bool = False
    apparmor_profile: str | None = None
    selinux_label: str | None = None
    oom_score_adj: int | None = None
    scheduler: Scheduler | None = None
    io_priority: IOPriority | None = None
    exec_cpu_affinity: CPUAffinity | None = field(default=None, metadata=key("execCPUAffinity"))
    command_line: str | None = None


@dataclass(frozen=True)
class Hook(_ConfigModel):
    """A program run at a point of the container's lifecycle, given the state on stdin."""

    path: str
    args: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    timeout: int | None = None


@dataclass(frozen=True)
class Hooks(_ConfigModel):
    """The lifecycle hooks, each list run in order."""

    prestart: tuple[Hook, ...] = ()
    create_runtime: tuple[Hook, ...] = ()
    create_container: tuple[Hook, ...] = ()
    start_container: tuple[Hook, ...] = ()
    poststart: tuple[Hook, ...] = ()
    poststop: tuple[Hook, ...] = ()


@dataclass(frozen=True)
class RuntimeConfig(_ConfigModel):
    """A bundle's config.json."""

    oci_version: str
    root: Root | None = None
    mounts: tuple[Mount, ...] = ()
    process: Process | None = None
    hostname: str | None = None
    domainname: str | None = None
    hooks: Hooks | None = None
    annotations: dict[str, str] = field(default_factory=dict)
    linux: Linux | None = None

    @classmethod
    def load(cls, data: bytes | str, what: str = "config.json") -> RuntimeConfig:
        """Parse config.json bytes into the model (no schema check; see porter_specs.validate)."""
        return cls.from_json(load_json(data, what))

    def encode(self) -> bytes:
        """Canonical JSON bytes of the config."""
        return canonical_json(self.to_json())
