"""Typed model of the `linux` section of a runtime-spec v1.2 config.json (config-linux.md).

Fields are named as in the spec, in snake_case; optional scalars are None when unset, because
for several of them "unset" and "zero" differ (a runtime MUST NOT touch what is unset).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from porter_specs.json_model import JsonModel, key

_WHAT = "runtime config: linux"


class _LinuxModel(JsonModel):
    _what = _WHAT


@dataclass(frozen=True)
class IDMapping(_LinuxModel):
    """A range of user or group ids: `size` ids from `host_id` appear from `container_id`."""

    container_id: int = field(metadata=key("containerID"))
    host_id: int = field(metadata=key("hostID"))
    size: int


@dataclass(frozen=True)
class Namespace(_LinuxModel):
    """A namespace to create, or (with `path`) to join."""

    type: str
    path: str | None = None


@dataclass(frozen=True)
class TimeOffset(_LinuxModel):
    """The offset of one clock in a time namespace."""

    secs: int | None = None
    nanosecs: int | None = None


@dataclass(frozen=True)
class Device(_LinuxModel):
    """A device node that must exist in the container."""

    type: str
    path: str
    major: int | None = None
    minor: int | None = None
    file_mode: int | None = None
    uid: int | None = None
    gid: int | None = None


@dataclass(frozen=True)
class DeviceRule(_LinuxModel):
    """One entry of the cgroup device allow/deny list; None means "all"."""

    allow: bool
    type: str | None = None
    major: int | None = None
    minor: int | None = None
    access: str | None = None


@dataclass(frozen=True)
class Memory(_LinuxModel):
    """The memory controller; limits in bytes, -1 for unlimited."""

    limit: int | None = None
    reservation: int | None = None
    swap: int | None = None
    kernel: int | None = None
    kernel_tcp: int | None = field(default=None, metadata=key("kernelTCP"))
    swappiness: int | None = None
    disable_oom_killer: bool | None = field(default=None, metadata=key("disableOOMKiller"))
    use_hierarchy: bool | None = None
    check_before_update: bool | None = None


@dataclass(frozen=True)
class CPU(_LinuxModel):
    """The cpu and cpuset controllers."""

    shares: int | None = None
    quota: int | None = None
    burst: int | None = None
    period: int | None = None
    realtime_runtime: int | None = None
    realtime_period: int | None = None
    cpus: str | None = None
    mems: str | None = None
    idle: int | None = None


@dataclass(frozen=True)
class Pids(_LinuxModel):
    """The pids controller."""

    limit: int


@dataclass(frozen=True)
class WeightDevice(_LinuxModel):
    """A per-device block IO weight."""

    major: int
    minor: int
    weight: int | None = None
    leaf_weight: int | None = None


@dataclass(frozen=True)
class ThrottleDevice(_LinuxModel):
    """A per-device block IO rate limit (bytes or operations per second)."""

    major: int
    minor: int
    rate: int


@dataclass(frozen=True)
class BlockIO(_LinuxModel):
    """The blkio (v1) or io (v2) controller."""

    weight: int | None = None
    leaf_weight: int | None = None
    weight_device: tuple[WeightDevice, ...] = ()
    throttle_read_bps_device: tuple[ThrottleDevice, ...] = ()
    throttle_write_bps_device: tuple[ThrottleDevice, ...] = ()
    throttle_read_iops_device: tuple[ThrottleDevice, ...] = field(
        default=(), metadata=key("throttleReadIOPSDevice")
    )
    throttle_write_iops_device: tuple[ThrottleDevice, ...] = field(
        default=(), metadata=key("throttleWriteIOPSDevice")
    )


@dataclass(frozen=True)
class HugepageLimit(_LinuxModel):
    """A hugetlb limit for one page size ("2MB")."""

    page_size: str
    limit: int


@dataclass(frozen=True)
class InterfacePriority(_LinuxModel):
    """The net_prio priority of one interface."""

    name: str
    priority: int


@dataclass(frozen=True)
class Network(_LinuxModel):
    """The net_cls and net_prio controllers."""

    class_id: int | None = field(default=None, metadata=key("classID"))
    priorities: tuple[InterfacePriority, ...] = ()


@dataclass(frozen=True)
class Rdma(_LinuxModel):
    """The rdma controller's limits for one device."""

    hca_handles: int | None = None
    hca_objects: int | None = None


@dataclass(frozen=True)
class Resources(_LinuxModel):
    """The cgroup resources of the container."""

    devices: tuple[DeviceRule, ...] = ()
    memory: Memory | None = None
    cpu: CPU | None = None
    pids: Pids | None = None
    block_io: BlockIO | None = field(default=None, metadata=key("blockIO"))
    hugepage_limits: tuple[HugepageLimit, ...] = ()
    network: Network | None = None
    rdma: dict[str, Rdma] = field(default_factory=dict)
    unified: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IntelRdt(_LinuxModel):
    """Intel Resource Director Technology (resctrl) settings."""

    clos_id: str | None = field(default=None, metadata=key("closID"))
    l3_cache_schema: str | None = None
    mem_bw_schema: str | None = None
    enable_cmt: bool | None = field(default=None, metadata=key("enableCMT"))
    enable_mbm: bool | None = field(default=None, metadata=key("enableMBM"))


@dataclass(frozen=True)
class SeccompArg(_LinuxModel):
    """A condition on one syscall argument."""

    index: int
    value: int
    op: str
    value_two: int | None = None


@dataclass(frozen=True)
class SeccompSyscall(_LinuxModel):
    """A rule: these syscalls (with these arguments) get this action."""

    names: tuple[str, ...]
    action: str
    errno_ret: int | None = None
    args: tuple[SeccompArg, ...] = ()


@dataclass(frozen=True)
class Seccomp(_LinuxModel):
    """A seccomp filter: a default action and rules."""

    default_action: str
    default_errno_ret: int | None = None
    architectures: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    listener_path: str | None = None
    listener_metadata: str | None = None
    syscalls: tuple[SeccompSyscall, ...] = ()


@dataclass(frozen=True)
class Personality(_LinuxModel):
    """The execution domain (personality(2))."""

    domain: str
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Linux(_LinuxModel):
    """The linux section: namespaces, id mappings, devices, cgroups, seccomp, paths."""

    namespaces: tuple[Namespace, ...] = ()
    uid_mappings: tuple[IDMapping, ...] = ()
    gid_mappings: tuple[IDMapping, ...] = ()
    time_offsets: dict[str, TimeOffset] = field(default_factory=dict)
    devices: tuple[Device, ...] = ()
    cgroups_path: str | None = None
    resources: Resources | None = None
    intel_rdt: IntelRdt | None = None
    sysctl: dict[str, str] = field(default_factory=dict)
    seccomp: Seccomp | None = None
    rootfs_propagation: str | None = None
    masked_paths: tuple[str, ...] = ()
    readonly_paths: tuple[str, ...] = ()
    mount_label: str | None = None
    personality: Personality | None = None

    def namespace(self, type_: str) -> Namespace | None:
        """The entry for a namespace type ("pid", "user"...), or None to inherit the runtime's."""
        return next((ns for ns in self.namespaces if ns.type == type_), None)
