"""The default config.json of `porter-runtime spec` (runc's defaults, and its rootless
variant), and the runtime-spec features document of `porter-runtime features`."""

from __future__ import annotations

import os

from porter_runtime import capabilities, mountopts
from porter_runtime.namespaces import FLAGS

SPEC_VERSION = "1.2.0"
_DEFAULT_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]


def default_config(rootless: bool = False) -> dict:
    """A bundle config that runs `sh` from ./rootfs, as `runc spec` writes it."""
    devpts = ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]
    if not rootless:
        devpts.append("gid=5")
    sys_mount = (
        {
            "destination": "/sys",
            "type": "none",
            "source": "/sys",
            "options": ["rbind", "nosuid", "noexec", "nodev", "ro"],
        }
        if rootless
        else {
            "destination": "/sys",
            "type": "sysfs",
            "source": "sysfs",
            "options": ["nosuid", "noexec", "nodev", "ro"],
        }
    )
    namespaces = (
        ["pid", "ipc", "uts", "mount", "user"]
        if rootless
        else ["pid", "network", "ipc", "uts", "mount"]
    )
    linux: dict = {
        "namespaces": [{"type": t} for t in namespaces],
        "maskedPaths": [
            "/proc/acpi",
            "/proc/asound",
            "/proc/kcore",
            "/proc/keys",
            "/proc/latency_stats",
            "/proc/timer_list",
            "/proc/timer_stats",
            "/proc/sched_debug",
            "/sys/firmware",
            "/proc/scsi",
        ],
        "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    }
    if rootless:
        linux["uidMappings"] = [{"containerID": 0, "hostID": os.geteuid(), "size": 1}]
        linux["gidMappings"] = [{"containerID": 0, "hostID": os.getegid(), "size": 1}]
    else:
        linux["resources"] = {"devices": [{"allow": False, "access": "rwm"}]}
    mounts = [
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
            "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        },
        {
            "destination": "/dev/mqueue",
            "type": "mqueue",
            "source": "mqueue",
            "options": ["nosuid", "noexec", "nodev"],
        },
        sys_mount,
    ]
    if not rootless:
        mounts.append(
            {
                "destination": "/sys/fs/cgroup",
                "type": "cgroup",
                "source": "cgroup",
                "options": ["nosuid", "noexec", "nodev", "relatime", "ro"],
            }
        )
    return {
        "ociVersion": SPEC_VERSION,
        "process": {
            "terminal": True,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "TERM=xterm",
            ],
            "cwd": "/",
            "capabilities": {
                k: list(_DEFAULT_CAPS) for k in ("bounding", "effective", "permitted", "ambient")
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "porter",
        "mounts": mounts,
        "linux": linux,
    }


def features() -> dict:
    """What this runtime supports, in the shape of the runtime-spec's features.md."""
    from porter_runtime.hooks import KINDS
    from porter_runtime.process import apparmor_enabled

    options = sorted({*mountopts.FLAGS, *mountopts.PROPAGATION, *mountopts.RECURSIVE, "tmpcopyup"})
    return {
        "ociVersionMin": "1.0.0",
        "ociVersionMax": SPEC_VERSION,
        "hooks": list(KINDS),
        "mountOptions": options,
        "linux": {
            "namespaces": sorted(FLAGS),
            "capabilities": list(capabilities.NAMES[: capabilities.last_cap() + 1]),
            "cgroup": {
                "v1": True,
                "v2": True,
                "systemd": False,
                "systemdUser": False,
                "rdma": False,
            },
            "seccomp": _seccomp_features(),
            "apparmor": {"enabled": apparmor_enabled()},
            "selinux": {"enabled": os.path.isdir("/sys/fs/selinux")},
            "intelRdt": {"enabled": False},
            "mountExtensions": {"idmap": {"enabled": False}},
        },
        "annotations": {
            "org.opencontainers.runtime-spec.features.implementation": "porter-runtime",
        },
    }


def _seccomp_features() -> dict:
    try:
        from porter_runtime.seccomp import tables
    except ImportError:
        return {"enabled": False}
    return {
        "enabled": True,
        "actions": sorted(tables.ACTIONS),
        "operators": sorted(tables.OPS),
        "archs": sorted(tables.ARCHES),
        "knownFlags": sorted(tables.FLAGS),
        "supportedFlags": sorted(tables.FLAGS),
    }
