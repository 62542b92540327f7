"""runc's default bundle config (`runc spec`, `runc spec --rootless`), as plain JSON data.

A runtime writes it for its `spec` command and an image tool writes it around the process it
takes from an image, so that any Porter bundle behaves like one from `runc spec`: new pid,
ipc, uts, mount and network namespaces; proc, a tmpfs /dev with devpts, shm and mqueue,
read-only sysfs and cgroup; the usual masked and read-only /proc paths; three capabilities;
no new privileges; at most 1024 open files; and a cgroup device rule denying everything (the
runtime adds the standard devices itself). The lists are those of runc 1.1, the runc that
Debian ships, except that the masked paths are runc 1.2's: they add the powercap interface,
whose energy counters are a side channel (the PLATYPUS attack).

Plain dicts and tuples rather than the models of `porter_specs.runtime_config`: a runtime
works on parsed JSON and need not load the models to write a config. Every call returns new
lists and dicts, so a caller may edit what it gets.
"""

from __future__ import annotations

import os

HOSTNAME = "porter"
DEFAULT_ENV = (
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "TERM=xterm",
)
DEFAULT_CAPABILITIES = ("CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE")
NOFILE_LIMIT = 1024
NAMESPACES = ("pid", "network", "ipc", "uts", "mount")
# an unprivileged user cannot configure a new network namespace, so it gets a user one
ROOTLESS_NAMESPACES = ("pid", "ipc", "uts", "mount", "user")
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


def default_runtime_config(
    oci_version: str, rootless: bool = False, uid: int | None = None, gid: int | None = None
) -> dict:
    """A config.json that runs `sh` from ./rootfs, as `runc spec` writes it.

    `oci_version` is the writer's: the version of the runtime-spec it implements. Rootless,
    container root is host `uid`:`gid` (default: the caller's effective ids).
    """
    return {
        "ociVersion": oci_version,
        "process": default_process(),
        "root": {"path": "rootfs", "readonly": True},
        "hostname": HOSTNAME,
        "mounts": default_mounts(rootless),
        "linux": default_linux(rootless, uid, gid),
    }


def default_process() -> dict:
    """Root running `sh` on a terminal in /, with runc's capabilities and limits."""
    return {
        "terminal": True,
        "user": {"uid": 0, "gid": 0},
        "args": ["sh"],
        "env": list(DEFAULT_ENV),
        "cwd": "/",
        "capabilities": {
            kind: list(DEFAULT_CAPABILITIES)
            for kind in ("bounding", "effective", "permitted", "ambient")
        },
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": NOFILE_LIMIT, "soft": NOFILE_LIMIT}],
        "noNewPrivileges": True,
    }


def default_mounts(rootless: bool = False) -> list[dict]:
    """runc's mounts. Rootless, the host's /sys is bound instead of sysfs (which cannot be
    mounted in a user namespace that does not own the network namespace) and devpts takes no
    gid= (that group is not mapped); unlike runc 1.1, no cgroup mount is left under it."""
    devpts = ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]
    if not rootless:
        devpts.append("gid=5")
    mounts: list[dict] = [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {
            "destination": "/dev",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
        },
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": devpts},
        {
            "destination": "/dev/shm",
            "type": "tmpfs",
            "source": "shm",
            "options": [*_NO_EXEC, "mode=1777", "size=65536k"],
        },
        {
            "destination": "/dev/mqueue",
            "type": "mqueue",
            "source": "mqueue",
            "options": [*_NO_EXEC],
        },
    ]
    if rootless:
        return [
            *mounts,
            {
                "destination": "/sys",
                "type": "none",
                "source": "/sys",
                "options": ["rbind", *_NO_EXEC, "ro"],
            },
        ]
    return [
        *mounts,
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": [*_NO_EXEC, "ro"]},
        {
            "destination": "/sys/fs/cgroup",
            "type": "cgroup",
            "source": "cgroup",
            "options": [*_NO_EXEC, "relatime", "ro"],
        },
    ]


def default_linux(rootless: bool = False, uid: int | None = None, gid: int | None = None) -> dict:
    """runc's linux section: namespaces, masked and read-only paths, and either a device rule
    denying everything or, rootless, the mapping of container root to host `uid`:`gid`."""
    linux: dict = {
        "namespaces": [
            {"type": kind} for kind in (ROOTLESS_NAMESPACES if rootless else NAMESPACES)
        ],
        "maskedPaths": list(MASKED_PATHS),
        "readonlyPaths": list(READONLY_PATHS),
    }
    if rootless:
        host_uid = os.geteuid() if uid is None else uid
        host_gid = os.getegid() if gid is None else gid
        linux["uidMappings"] = [{"containerID": 0, "hostID": host_uid, "size": 1}]
        linux["gidMappings"] = [{"containerID": 0, "hostID": host_gid, "size": 1}]
    else:
        linux["resources"] = {"devices": [{"allow": False, "access": "rwm"}]}
    return linux
