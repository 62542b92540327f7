"""Namespaces: new, inherited, joined by path; user namespace id mappings (config-linux.md)."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conformance.runtime.host_features import missing_namespace, missing_program, needs

pytestmark = pytest.mark.integration

# config's namespace type -> name under /proc/<pid>/ns/
PROC_NAME = {
    "pid": "pid",
    "network": "net",
    "ipc": "ipc",
    "uts": "uts",
    "mount": "mnt",
    "cgroup": "cgroup",
    "time": "time",
}
UNSHARE_FLAG = {"ipc": "--ipc", "uts": "--uts", "pid": "--pid", "cgroup": "--cgroup"}


def _host_ns(kind: str) -> str:
    return os.readlink(f"/proc/self/ns/{PROC_NAME[kind]}")


def _with_namespaces(bundle, kinds) -> None:
    """Only these namespaces; drop what needs the others (hostname: uts, sysfs: network)."""
    bundle.linux["namespaces"] = [{"type": kind} for kind in sorted(kinds)]
    if "uts" not in kinds:
        bundle.config.pop("hostname", None)
    if "network" not in kinds:
        bundle.config["mounts"] = [m for m in bundle.config["mounts"] if m["type"] != "sysfs"]


@pytest.mark.parametrize("kind", ["pid", "network", "ipc", "uts", "mount", "cgroup"])
def test_new_namespace_is_created(lab, kind):
    bundle = lab.bundle()
    _with_namespaces(bundle, {"mount", kind})
    report = lab.probe(bundle)
    assert report["namespaces"][PROC_NAME[kind]] != _host_ns(kind)


NEEDS_TIME_NAMESPACE = needs(missing_namespace("time"))


@NEEDS_TIME_NAMESPACE
def test_new_time_namespace_is_created(lab):
    bundle = lab.bundle()
    _with_namespaces(bundle, {"mount", "time"})
    assert lab.probe(bundle)["namespaces"]["time"] != _host_ns("time")


@NEEDS_TIME_NAMESPACE
def test_time_offsets_shift_the_boot_clock_inside(lab):
    """config-linux.md timeOffsets: /proc/uptime reads CLOCK_BOOTTIME of the namespace."""
    offset = 10**7  # seconds, far beyond this host's uptime
    bundle = lab.bundle()
    _with_namespaces(bundle, {"mount", "time"})
    bundle.linux["timeOffsets"] = {"boottime": {"secs": offset, "nanosecs": 0}}
    inside = float(lab.probe(bundle, "--file", "/proc/uptime")["files"]["/proc/uptime"].split()[0])
    with open("/proc/uptime") as f:
        host = float(f.read().split()[0])
    assert host + offset - 60 < inside < host + offset + 60


@pytest.mark.parametrize("kind", ["pid", "network", "ipc", "uts", "cgroup"])
def test_unlisted_namespace_is_inherited(lab, kind):
    bundle = lab.bundle()
    _with_namespaces(bundle, {"pid", "network", "ipc", "uts", "mount", "cgroup"} - {kind})
    report = lab.probe(bundle)
    assert report["namespaces"][PROC_NAME[kind]] == _host_ns(kind)


def test_pid_namespace_makes_process_pid_one(lab):
    assert lab.probe(lab.bundle())["pid"] == 1


def _holding(lab, *unshare_flags: str) -> int:
    """unshare(1) running `sleep` in namespaces of its own; killed when the test ends.

    Ready once the sleep runs: unshare has then entered every namespace it was asked
    for (and, with --fork, the sleep is the init of its new pid namespace).
    """
    process = subprocess.Popen(["unshare", *unshare_flags, "sleep", "300"], start_new_session=True)
    lab.defer(lambda: _stop(process))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if _runs_sleep(process.pid):
            return process.pid
        time.sleep(0.02)
    raise AssertionError(f"unshare {' '.join(unshare_flags)} never ran its command")


def _runs_sleep(pid: int) -> bool:
    """The process became `sleep` (exec) or forked a child (--fork) that is about to."""
    if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"sleep"):
        return True
    return bool(Path(f"/proc/{pid}/task/{pid}/children").read_text().strip())


@pytest.fixture
def holder(lab):
    """A process holding fresh ipc, uts, pid and cgroup namespaces; killed afterwards.

    With --fork the pid namespace gets its init (the sleep) only after unshare's fork;
    until then /proc/<pid>/ns/pid_for_children does not exist, so wait for the child.
    """
    return _holding(lab, *UNSHARE_FLAG.values(), "--fork")


def _stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


@pytest.mark.parametrize("kind", list(UNSHARE_FLAG))
def test_namespace_is_joined_by_path(lab, holder, kind):
    proc_name = "pid_for_children" if kind == "pid" else PROC_NAME[kind]
    path = f"/proc/{holder}/ns/{proc_name}"
    wanted = os.readlink(path)
    bundle = lab.bundle()
    bundle.linux["namespaces"] = [
        {"type": entry["type"], "path": path} if entry["type"] == kind else entry
        for entry in bundle.linux["namespaces"]
    ]
    if not any(entry["type"] == kind for entry in bundle.linux["namespaces"]):
        bundle.linux["namespaces"].append({"type": kind, "path": path})
    assert lab.probe(bundle)["namespaces"][PROC_NAME[kind]] == wanted


@needs(missing_program("ip"))
def test_network_namespace_is_joined_by_path(lab):
    name = f"conf-{secrets.token_hex(4)}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    lab.defer(lambda: subprocess.run(["ip", "netns", "del", name], check=False))
    path = f"/run/netns/{name}"
    wanted_inode = os.stat(path).st_ino
    bundle = lab.bundle()
    bundle.linux["namespaces"] = [
        {"type": "network", "path": path} if entry["type"] == "network" else entry
        for entry in bundle.linux["namespaces"]
    ]
    assert lab.probe(bundle)["namespaces"]["net"] == f"net:[{wanted_inode}]"


def test_namespace_path_that_does_not_exist_is_an_error(lab):
    bundle = lab.bundle()
    bundle.linux["namespaces"].append({"type": "cgroup", "path": "/proc/no-such/ns/cgroup"})
    assert not lab.container(bundle).create().ok


def test_namespace_path_of_wrong_type_is_an_error(lab):
    bundle = lab.bundle()
    bundle.linux["namespaces"] = [
        {"type": "ipc", "path": "/proc/self/ns/uts"} if entry["type"] == "ipc" else entry
        for entry in bundle.linux["namespaces"]
    ]
    assert not lab.container(bundle).create().ok


def test_unknown_namespace_type_is_an_error(lab):
    bundle = lab.bundle()
    bundle.linux["namespaces"].append({"type": "no-such-namespace"})
    assert not lab.container(bundle).create().ok


def _user_namespace_bundle(lab):
    bundle = lab.bundle()
    bundle.linux["namespaces"].append({"type": "user"})
    bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
    return bundle


def _mapping(text: str) -> list[list[int]]:
    return [[int(field) for field in line.split()] for line in text.splitlines()]


def test_user_namespace_uid_mapping(lab):
    report = lab.probe(_user_namespace_bundle(lab))
    assert _mapping(report["uid_map"]) == [[0, 100000, 65536]]


def test_user_namespace_gid_mapping(lab):
    report = lab.probe(_user_namespace_bundle(lab))
    assert _mapping(report["gid_map"]) == [[0, 200000, 65536]]


def test_user_namespace_process_is_root_inside(lab):
    report = lab.probe(_user_namespace_bundle(lab))
    assert (report["uid"], report["gid"]) == (0, 0)
    assert report["namespaces"]["user"] != os.readlink("/proc/self/ns/user")


def test_user_namespace_process_is_mapped_outside(lab):
    bundle = _user_namespace_bundle(lab)
    bundle.process["args"] = ["sleep", "30"]
    container = lab.container(bundle)
    container.create().check()
    status = Path(f"/proc/{container.pid}/status").read_text()
    uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
    assert uid_line.split()[1] == "100000"


def _joining(bundle, kind: str, path: str) -> None:
    """Replaces (or adds) the `kind` namespace of the config with a join of `path`."""
    namespaces = [entry for entry in bundle.linux["namespaces"] if entry["type"] != kind]
    bundle.linux["namespaces"] = [*namespaces, {"type": kind, "path": path}]


def test_mount_namespace_is_joined_by_path(lab):
    holder_pid = _holding(lab, "--mount")
    path = f"/proc/{holder_pid}/ns/mnt"
    wanted = os.readlink(path)
    bundle = lab.bundle()
    _joining(bundle, "mount", path)
    assert lab.probe(bundle)["namespaces"]["mnt"] == wanted


@pytest.mark.parametrize("mappings", ["without-mappings", "with-its-mappings"])
def test_user_namespace_is_joined_by_path(lab, mappings):
    """A joined user namespace keeps its own mappings; a config may repeat them (podman does)."""
    holder_pid = _holding(lab, "--user", "--map-root-user")
    path = f"/proc/{holder_pid}/ns/user"
    wanted = os.readlink(path)
    bundle = lab.bundle()
    _joining(bundle, "user", path)
    if mappings == "with-its-mappings":
        bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": 0, "size": 1}]
        bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": 0, "size": 1}]
    report = lab.probe(bundle)
    assert report["namespaces"]["user"] == wanted
    assert _mapping(report["uid_map"]) == [[0, 0, 1]]
