"""OCI bundles for the suite: a tiny rootfs (busybox + the probe) and a config.json.

`default_config` is a minimal runtime-spec config in the spirit of `runc spec`;
each test takes one, changes what it is about, and writes it with `Bundle.write`.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

OCI_VERSION = "1.0.2"

BUSYBOX_APPLETS = (
    "sh", "sleep", "true", "false", "touch", "cat", "echo", "ls", "mkdir", "id",
    "test", "kill", "mount", "umount", "env", "pwd", "grep", "stat",
)  # fmt: skip

CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]

MASKED_PATHS = [
    "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
    "/proc/scsi",
]  # fmt: skip

READONLY_PATHS = [
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
]  # fmt: skip

_BASE_CONFIG: dict = {
    "ociVersion": OCI_VERSION,
    "process": {
        "terminal": False,
        "user": {"uid": 0, "gid": 0},
        "args": ["/probe"],
        "env": ["PATH=/bin", "TERM=xterm"],
        "cwd": "/",
        "capabilities": {"bounding": CAPS, "effective": CAPS, "permitted": CAPS},
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
        "noNewPrivileges": True,
    },
    "root": {"path": "rootfs", "readonly": False},
    "hostname": "conformance",
    "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {
            "destination": "/dev",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
        },
        {
            "destination": "/dev/pts",
            "type": "devpts",
            "source": "devpts",
            "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"],
        },
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
        {
            "destination": "/sys",
            "type": "sysfs",
            "source": "sysfs",
            "options": ["nosuid", "noexec", "nodev", "ro"],
        },
        {
            "destination": "/sys/fs/cgroup",
            "type": "cgroup",
            "source": "cgroup",
            "options": ["nosuid", "noexec", "nodev", "relatime", "ro"],
        },
    ],
    "linux": {
        "resources": {"devices": [{"allow": False, "access": "rwm"}]},
        "namespaces": [
            {"type": "pid"},
            {"type": "network"},
            {"type": "ipc"},
            {"type": "uts"},
            {"type": "mount"},
        ],
        "maskedPaths": MASKED_PATHS,
        "readonlyPaths": READONLY_PATHS,
    },
}


def default_config(args: list[str] | None = None) -> dict:
    """A fresh copy of the suite's base config, optionally with other process args."""
    config = copy.deepcopy(_BASE_CONFIG)
    if args is not None:
        config["process"]["args"] = list(args)
    return config


def _link_or_copy(source: Path, dest: Path) -> None:
    try:
        os.link(source, dest)
    except OSError:
        shutil.copy2(source, dest)


def make_rootfs(rootfs: Path, busybox: Path, probe: Path) -> None:
    """Builds /bin (busybox applets), /probe and the empty mount points a container needs."""
    for sub in ("bin", "proc", "sys", "dev", "tmp", "etc", "mnt", "root"):
        (rootfs / sub).mkdir(parents=True, exist_ok=True)
        (rootfs / sub).chmod(0o755)
    (rootfs / "tmp").chmod(0o1777)
    _link_or_copy(busybox, rootfs / "bin" / "busybox")
    for applet in BUSYBOX_APPLETS:
        (rootfs / "bin" / applet).symlink_to("busybox")
    _link_or_copy(probe, rootfs / "probe")
    (rootfs / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (rootfs / "etc" / "group").write_text("root:x:0:\n")


@dataclass
class Bundle:
    """A bundle directory: `config` is edited by the test, then `write()` saves it."""

    path: Path
    config: dict

    @property
    def rootfs(self) -> Path:
        return self.path / self.config["root"]["path"]

    def write(self) -> Bundle:
        (self.path / "config.json").write_text(json.dumps(self.config, indent=2))
        return self

    @property
    def process(self) -> dict:
        return self.config["process"]

    @property
    def linux(self) -> dict:
        return self.config["linux"]

    def resources(self) -> dict:
        return self.config["linux"].setdefault("resources", {})
