"""The parts of a bundle's config.json that do not come from the image: `runc spec`'s defaults.

`unpack` fills in the process, annotations and volumes from the image config
(`porter_image.convert`); everything else is what `runc spec` writes, so that a bundle from
`porter-image unpack` behaves like one from `runc spec` or `umoci unpack`: new pid, ipc, uts,
mount and network namespaces; proc, a tmpfs /dev with devpts, shm and mqueue, read-only sysfs
and cgroup; the usual masked and read-only /proc paths; three capabilities; no new
privileges; at most 1024 open files; and a cgroup device rule denying everything (the
runtime adds the standard devices itself).

`rootless()` turns such a config into one for a user namespace, as `runc spec --rootless` and
`umoci unpack --rootless` do.
"""

from __future__ import annotations

from dataclasses import replace

from porter_specs.runtime_config import (
    Capabilities,
    DeviceRule,
    IDMapping,
    Linux,
    Mount,
    Namespace,
    Resources,
    Rlimit,
    RuntimeConfig,
)

HOSTNAME = "porter"
DEFAULT_ENV = (
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "TERM=xterm",
)
DEFAULT_CAPABILITIES = ("CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE")
NOFILE = Rlimit("RLIMIT_NOFILE", hard=1024, soft=1024)
NAMESPACES = ("pid", "network", "ipc", "uts", "mount")
MASKED_PATHS = (
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
    "/proc/scsi",
)
READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")
_NO_EXEC = ("nosuid", "noexec", "nodev")
MOUNTS = (
    Mount("/proc", type="proc", source="proc"),
    Mount("/dev", "tmpfs", "tmpfs", ("nosuid", "strictatime", "mode=755", "size=65536k")),
    Mount(
        "/dev/pts",
        "devpts",
        "devpts",
        ("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"),
    ),
    Mount("/dev/shm", "tmpfs", "shm", (*_NO_EXEC, "mode=1777", "size=65536k")),
    Mount("/dev/mqueue", "mqueue", "mqueue", _NO_EXEC),
    Mount("/sys", "sysfs", "sysfs", (*_NO_EXEC, "ro")),
    Mount("/sys/fs/cgroup", "cgroup", "cgroup", (*_NO_EXEC, "relatime", "ro")),
)
# What a rootless container gets instead of the mounts under /sys: sysfs cannot be mounted
# in a user namespace that does not own the network namespace, so the host's is bound.
ROOTLESS_SYS = Mount("/sys", "bind", "/sys", ("rbind", *_NO_EXEC, "ro"))


def capabilities() -> Capabilities:
    """runc's default sets; no inheritable or ambient ones (CVE-2022-29162)."""
    caps = DEFAULT_CAPABILITIES
    return Capabilities(bounding=caps, effective=caps, permitted=caps)


def default_linux() -> Linux:
    return Linux(
        namespaces=tuple(Namespace(kind) for kind in NAMESPACES),
        resources=Resources(devices=(DeviceRule(allow=False, access="rwm"),)),
        masked_paths=MASKED_PATHS,
        readonly_paths=READONLY_PATHS,
    )


def rootless(config: RuntimeConfig, uid: int, gid: int) -> RuntimeConfig:
    """`config` for a user namespace where container root is host `uid`:`gid` (size 1).

    As umoci's ToRootless: a user namespace instead of a network one (an unprivileged user
    cannot configure a new one), no supplementary groups (setgroups is denied), no uid=/gid=
    mount options, the host's /sys bound read-only, and no cgroup resources.
    """
    assert config.linux is not None and config.process is not None
    namespaces = [ns for ns in config.linux.namespaces if ns.type not in ("network", "user")]
    mounts = [
        replace(m, options=tuple(o for o in m.options if not o.startswith(("uid=", "gid="))))
        for m in config.mounts
        if not m.destination.startswith("/sys")
    ]
    linux = replace(
        config.linux,
        namespaces=(*namespaces, Namespace("user")),
        uid_mappings=(IDMapping(container_id=0, host_id=uid, size=1),),
        gid_mappings=(IDMapping(container_id=0, host_id=gid, size=1),),
        resources=None,
    )
    process = replace(config.process, user=replace(config.process.user, additional_gids=()))
    return replace(config, process=process, mounts=(*mounts, ROOTLESS_SYS), linux=linux)
