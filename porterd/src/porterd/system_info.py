"""What `/version` and `/info` report about the host and this porterd, in dockerd's shape."""

from __future__ import annotations

import datetime
import os
import platform
import socket
from pathlib import Path
from typing import Any

from porterd.api.app import API_VERSION, MIN_API_VERSION, PORTER_VERSION

# platform.machine() -> the GOARCH names docker clients print and compare.
_GO_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}


def go_arch() -> str:
    machine = platform.machine()
    return _GO_ARCH.get(machine, machine)


def version_document() -> dict[str, Any]:
    details = {
        "ApiVersion": API_VERSION,
        "MinAPIVersion": MIN_API_VERSION,
        "GitCommit": "",
        "GoVersion": f"python{platform.python_version()}",
        "Os": "linux",
        "Arch": go_arch(),
        "KernelVersion": platform.release(),
        "BuildTime": "",
        "Experimental": "false",
    }
    return {
        "Platform": {"Name": "Porter Engine"},
        "Components": [{"Name": "Engine", "Version": PORTER_VERSION, "Details": details}],
        "Version": PORTER_VERSION,
        **{key: value for key, value in details.items() if key != "Experimental"},
    }


def operating_system() -> str:
    try:
        lines = Path("/etc/os-release").read_text().splitlines()
    except OSError:
        return "Linux"
    fields = dict(line.split("=", 1) for line in lines if "=" in line)
    return fields.get("PRETTY_NAME", "Linux").strip('"')


def memory_total() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def backing_filesystem(path: Path) -> str:
    """The file system `path` lies on, named as dockerd's overlay2 driver names it (`extfs`)."""
    target = os.path.realpath(path)
    best, kind = "", "unknown"
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return kind
    for line in lines:
        fields, _, rest = line.partition(" - ")
        point = fields.split()[4].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, rest.split()[0]
    return "extfs" if kind in ("ext2", "ext3", "ext4") else kind


def cgroup_version() -> str:
    return "2" if Path("/sys/fs/cgroup/cgroup.controllers").exists() else "1"


def host_facts() -> dict[str, Any]:
    """The parts of `/info` that describe the machine rather than porterd."""
    return {
        "KernelVersion": platform.release(),
        "OperatingSystem": operating_system(),
        "OSVersion": "",
        "OSType": "linux",
        "Architecture": platform.machine(),
        "NCPU": os.cpu_count() or 1,
        "MemTotal": memory_total(),
        "Name": socket.gethostname(),
        "CgroupDriver": "cgroupfs",
        "CgroupVersion": cgroup_version(),
        "MemoryLimit": True,
        "SwapLimit": True,
        "KernelMemoryTCP": False,
        "CpuCfsPeriod": True,
        "CpuCfsQuota": True,
        "CPUShares": True,
        "CPUSet": True,
        "PidsLimit": True,
        "OomKillDisable": cgroup_version() == "1",
        "IPv4Forwarding": _ipv4_forwarding(),
        "BridgeNfIptables": False,
        "BridgeNfIp6tables": False,
        "SystemTime": datetime.datetime.now(datetime.UTC).isoformat().replace("+00:00", "Z"),
        "HttpProxy": os.environ.get("HTTP_PROXY", ""),
        "HttpsProxy": os.environ.get("HTTPS_PROXY", ""),
        "NoProxy": os.environ.get("NO_PROXY", ""),
        "NFd": _open_descriptors(),
        "NGoroutines": _threads(),
    }


def _ipv4_forwarding() -> bool:
    try:
        return Path("/proc/sys/net/ipv4/ip_forward").read_text().strip() == "1"
    except OSError:
        return False


def _open_descriptors() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return 0


def _threads() -> int:
    import threading

    return threading.active_count()
