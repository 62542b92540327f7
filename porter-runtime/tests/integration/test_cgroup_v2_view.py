"""porter-runtime end to end on its cgroup v2 backend, through a "v2 host view".

Each command runs in a private mount namespace where /sys/fs/cgroup is a cgroup2 mount (the
host's unified hierarchy mounted over the hybrid tmpfs), so the runtime sees a v2 host and
uses CgroupV2Manager for real. The unified hierarchy here has no controllers bound to it
(beyond hugetlb, at most) but cgroup.procs, cgroup.freeze, cgroup.kill, cgroup.events and eBPF
device programs all work. Tests look from the host at the hierarchy's real mount point.
"""

from __future__ import annotations

import json
import os
import posixpath
import secrets
import subprocess
import sys
import time

import pytest
from host_features import missing_kernel, needs
from porter_runtime.cgroups.paths import cgroup2_mount

from .conftest import Runtime, run_to_files

MOUNT = cgroup2_mount()  # the unified hierarchy as the host sees it

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root"),
    pytest.mark.skipif(MOUNT is None, reason="no cgroup2 mount"),
]

# mounted over whatever /sys/fs/cgroup is, then the runtime replaces the shell ($0 "$@")
VIEW = ["unshare", "--mount", "--propagation", "private", "sh", "-c"]
VIEW_SCRIPT = 'mount -t cgroup2 none /sys/fs/cgroup && exec "$0" "$@"'


def host_dir(cgroup_path: str) -> str:
    """The cgroup's directory as the host sees it."""
    return os.path.join(MOUNT, cgroup_path.lstrip("/"))


def has_controller(name: str) -> bool:
    with open(os.path.join(MOUNT, "cgroup.controllers")) as f:
        return name in f.read().split()


def own_v2_cgroup() -> str:
    with open("/proc/self/cgroup") as f:
        return next(line for line in f if line.startswith("0::"))[3:].strip()


def wait_for(predicate, what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def procs(directory: str) -> list[int]:
    try:
        with open(os.path.join(directory, "cgroup.procs")) as f:
            return [int(x) for x in f.read().split()]
    except FileNotFoundError:
        return []


def events(directory: str) -> dict[str, str]:
    with open(os.path.join(directory, "cgroup.events")) as f:
        return dict(line.split() for line in f if line.strip())


def remove_cgroup(directory: str) -> None:
    """Kill whatever is left in `directory` and remove it, children first (bounded)."""
    if not os.path.isdir(directory):
        return
    for entry in os.scandir(directory):
        if entry.is_dir(follow_symlinks=False):
            remove_cgroup(entry.path)
    for name, value in (("cgroup.freeze", "0"), ("cgroup.kill", "1")):
        try:
            with open(os.path.join(directory, name), "w") as f:
                f.write(value)
        except OSError:
            pass
    wait_for(lambda: not procs(directory), f"{directory} to empty")
    deadline = time.monotonic() + 10
    while True:
        try:
            os.rmdir(directory)
            return
        except FileNotFoundError:
            return
        except OSError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


class View(Runtime):
    """porter-runtime run inside the v2 view, with this test's --root; cleans up after."""

    def __init__(self, root: str) -> None:
        super().__init__(root, prefix=(*VIEW, VIEW_SCRIPT))
        self.cgroups: list[str] = []  # host directories to remove, with what is under them

    def new_id(self) -> str:
        """A unique id whose default cgroup (/porter-runtime/<id>) is cleaned up too."""
        container_id = super().new_id()
        self.cgroups.append(host_dir(f"/porter-runtime/{container_id}"))
        return container_id

    def unique_parent(self, base: str = "/") -> str:
        """A unique cgroup name under `base`, removed with everything under it."""
        name = f"porter-v2view-{secrets.token_hex(4)}"
        self.cgroups.append(host_dir(posixpath.join(base, name)))
        return name

    def cleanup(self) -> None:
        """Every step is tried even when one before it failed; the first failure is raised."""
        steps = [lambda c=c: self("delete", "--force", c, check=False) for c in self.ids]
        steps += [lambda d=d: remove_cgroup(d) for d in self.cgroups]
        failures = []
        for step in steps:
            try:
                step()
            except Exception as e:  # reported below, after the rest ran
                failures.append(e)
        if failures:
            raise failures[0]


def sees_unified(binary: str) -> subprocess.CompletedProcess:
    """Ask the runtime's own is_unified() inside the view (with the runtime's interpreter)."""
    script = "from porter_runtime.cgroups import is_unified; print(is_unified())"
    python = os.path.join(os.path.dirname(binary), "python")
    return run_to_files([*VIEW, VIEW_SCRIPT, python, "-c", script], timeout=30)


@pytest.fixture(scope="module")
def unified_view():
    """Stop before any container if the runtime would take the view for v1: its v1 backend
    would then make directories inside the unified hierarchy that no test cleans up."""
    binary = os.path.join(os.path.dirname(sys.executable), "porter-runtime")  # as conftest
    if sees_unified(binary).stdout.strip() != "True":
        pytest.fail("porter-runtime does not see the v2 view as a cgroup v2 host")


@pytest.fixture
def view(tmp_path, runtime_binary, unified_view):
    v = View(str(tmp_path / "state"))
    yield v
    v.cleanup()


def init_pid(view: View, container_id: str) -> int:
    return view.state(container_id)["pid"]


def proc_cgroup(pid: int) -> str:
    with open(f"/proc/{pid}/cgroup") as f:
        return next(line for line in f if line.startswith("0::")).strip()


def created(view: View, bundle, *args: str) -> str:
    """A created container running `args` once started."""
    container_id = view.new_id()
    bundle.run_args(*args)
    view("create", "--bundle", str(bundle), container_id)
    return container_id


def running(view: View, bundle, *args: str) -> str:
    container_id = created(view, bundle, *args)
    view("start", container_id)
    return container_id


# -- the view itself ---------------------------------------------------------------------------


def test_the_runtime_sees_the_view_as_a_unified_host(runtime_binary):
    """is_unified() looks at the mount on top of /sys/fs/cgroup (the cgroup2 stacked over
    the hybrid tmpfs), not at the first one mountinfo lists there."""
    result = sees_unified(runtime_binary)
    assert (result.returncode, result.stdout.strip()) == (0, "True"), result.stderr


# -- where the init lands ----------------------------------------------------------------------


def test_create_puts_the_init_in_the_default_cgroup(view, bundle):
    cid = created(view, bundle, "sleep", "100")
    assert proc_cgroup(init_pid(view, cid)) == f"0::/porter-runtime/{cid}"
    assert procs(host_dir(f"/porter-runtime/{cid}")) == [init_pid(view, cid)]


def test_create_puts_the_init_in_an_absolute_cgroups_path(view, bundle):
    path = f"/{view.unique_parent()}/ctr"
    bundle.config["linux"]["cgroupsPath"] = path
    cid = created(view, bundle, "sleep", "100")
    assert proc_cgroup(init_pid(view, cid)) == f"0::{path}"
    assert procs(host_dir(path)) == [init_pid(view, cid)]


def test_create_resolves_a_relative_cgroups_path_under_the_callers_cgroup(view, bundle):
    base = own_v2_cgroup()  # the runtime's too: it is this process's child
    relative = f"{view.unique_parent(base)}/ctr"
    bundle.config["linux"]["cgroupsPath"] = relative
    cid = created(view, bundle, "sleep", "100")
    path = posixpath.join(base, relative)
    assert proc_cgroup(init_pid(view, cid)) == f"0::{path}"
    assert procs(host_dir(path)) == [init_pid(view, cid)]


def test_exec_runs_the_process_in_the_containers_cgroup(view, bundle, tmp_path):
    cid = running(view, bundle, "sleep", "100")
    pid_file = tmp_path / "exec.pid"
    view("exec", "-d", "--pid-file", str(pid_file), cid, "sleep", "100")
    pid = int(pid_file.read_text())
    assert proc_cgroup(pid) == f"0::/porter-runtime/{cid}"
    assert pid in procs(host_dir(f"/porter-runtime/{cid}"))


# -- lifecycle ---------------------------------------------------------------------------------


def test_start_runs_the_process_and_state_reports_running(view, bundle):
    cid = created(view, bundle, "sleep", "100")
    assert view.state(cid)["status"] == "created"
    view("start", cid)
    assert view.state(cid)["status"] == "running"


def test_kill_stops_the_container(view, bundle):
    cid = running(view, bundle, "sleep", "100")
    view("kill", cid, "KILL")
    view.wait_status(cid, "stopped")


def test_delete_removes_the_cgroup_directory(view, bundle):
    cid = running(view, bundle, "sleep", "100")
    view("kill", cid, "KILL")
    view.wait_status(cid, "stopped")
    view("delete", cid)
    assert not os.path.exists(host_dir(f"/porter-runtime/{cid}"))
    assert view("state", cid, check=False).returncode != 0


def test_delete_force_of_a_running_container_removes_its_cgroup(view, bundle):
    cid = running(view, bundle, "sleep", "100")
    view("delete", "--force", cid)
    assert not os.path.exists(host_dir(f"/porter-runtime/{cid}"))


def test_a_failed_create_leaves_no_cgroup_directory(view, bundle):
    bundle.config["hooks"] = {"createRuntime": [{"path": "/bin/false"}]}
    cid = view.new_id()
    bundle.run_args("true")
    result = view("create", "--bundle", str(bundle), cid, check=False)
    assert result.returncode != 0
    assert not os.path.exists(host_dir(f"/porter-runtime/{cid}"))
    assert not os.path.exists(os.path.join(view.root, cid))


def test_kill_all_reaches_every_process_of_the_container(view, bundle):
    """TERM to a pid-namespace init without a handler is ignored; only --all ends the two
    sleeps, after which the shell (init: `; true` keeps it from exec'ing the last) exits."""
    cid = running(view, bundle, "sh", "-c", "sleep 100 & sleep 100; true")
    directory = host_dir(f"/porter-runtime/{cid}")

    def sleeps() -> list[int]:
        found = []
        for pid in procs(directory):
            try:
                with open(f"/proc/{pid}/comm") as f:
                    if f.read().strip() == "sleep":
                        found.append(pid)
            except FileNotFoundError:
                continue
        return found

    wait_for(lambda: len(sleeps()) == 2, "both sleeps to start")
    view("kill", "--all", cid, "TERM")
    wait_for(lambda: not procs(directory), "the cgroup to empty")
    view.wait_status(cid, "stopped")


# -- freezer -----------------------------------------------------------------------------------


def paused(view: View, bundle) -> tuple[str, str]:
    """A paused container's id and its cgroup directory as the host sees it."""
    cid = running(view, bundle, "sleep", "100")
    view("pause", cid)
    return cid, host_dir(f"/porter-runtime/{cid}")


NEEDS_CGROUP_FREEZE = needs(missing_kernel((5, 2), "cgroup.freeze"))


@NEEDS_CGROUP_FREEZE
def test_pause_freezes_the_cgroup(view, bundle):
    cid, directory = paused(view, bundle)
    assert view.state(cid)["status"] == "paused"
    assert events(directory)["frozen"] == "1"


@NEEDS_CGROUP_FREEZE
def test_resume_thaws_the_cgroup(view, bundle):
    cid, directory = paused(view, bundle)
    view("resume", cid)
    assert view.state(cid)["status"] == "running"
    assert events(directory)["frozen"] == "0"


@NEEDS_CGROUP_FREEZE
def test_delete_force_of_a_paused_container_thaws_kills_and_removes_its_cgroup(view, bundle):
    cid, _ = paused(view, bundle)
    view("delete", "--force", cid)
    assert not os.path.exists(host_dir(f"/porter-runtime/{cid}"))


def test_ps_lists_the_processes_of_the_cgroup(view, bundle, tmp_path):
    cid = running(view, bundle, "sleep", "100")
    pid_file = tmp_path / "exec.pid"
    view("exec", "-d", "--pid-file", str(pid_file), cid, "sleep", "100")
    listed = json.loads(view("ps", "--format", "json", cid).stdout)
    assert sorted(listed) == sorted([init_pid(view, cid), int(pid_file.read_text())])


# -- devices -----------------------------------------------------------------------------------

FUSE = {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o666}
DENY_FUSE = {"allow": False, "type": "c", "major": 10, "minor": 229, "access": "rwm"}
OPEN_BOTH = "exec 3</dev/null && echo null-opened; exec 4</dev/fuse && echo fuse-opened"


def test_a_denied_device_cannot_be_opened_while_dev_null_can(view, bundle):
    bundle.config["linux"]["devices"] = [FUSE]
    bundle.config["linux"]["resources"]["devices"].append(DENY_FUSE)
    bundle.run_args("sh", "-c", OPEN_BOTH)
    cid = view.new_id()
    result = view("run", "--bundle", str(bundle), cid, check=False)
    assert "null-opened" in result.stdout, result.stderr
    assert "fuse-opened" not in result.stdout
    assert "not permitted" in result.stderr


# -- resources this hierarchy lacks ------------------------------------------------------------


@pytest.mark.parametrize(
    ("resources", "file"),
    [({"memory": {"limit": 64 << 20}}, "memory.max"), ({"pids": {"limit": 10}}, "pids.max")],
    ids=["memory", "pids"],
)
def test_a_limit_without_its_controller_fails_create_with_one_line(view, bundle, resources, file):
    if has_controller(file.split(".")[0]):
        pytest.skip("this hierarchy has the controller")
    bundle.config["linux"]["resources"].update(resources)
    cid = view.new_id()
    bundle.run_args("true")
    result = view("create", "--bundle", str(bundle), cid, check=False)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("porter-runtime: error: "), result.stderr
    assert file in lines[0]
    assert not os.path.exists(host_dir(f"/porter-runtime/{cid}"))
    assert not os.path.exists(os.path.join(view.root, cid))


def test_update_with_a_limit_without_its_controller_fails_and_the_container_runs_on(view, bundle):
    if has_controller("pids"):
        pytest.skip("this hierarchy has the pids controller")
    cid = running(view, bundle, "sleep", "100")
    result = view("update", "--pids-limit", "5", cid, check=False)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "pids.max" in result.stderr
    assert view.state(cid)["status"] == "running"


# -- events ------------------------------------------------------------------------------------


def test_events_stats_answers_with_the_cpu_usage_v2_keeps_without_controllers(view, bundle):
    cid = running(view, bundle, "sleep", "100")
    result = view("events", "--stats", cid)
    event = json.loads(result.stdout)
    assert (event["type"], event["id"]) == ("stats", cid)
    assert event["data"]["cpu"]["usage"]["total"] > 0
    assert set(event["data"]) >= {"cpu", "memory", "pids", "blkio", "hugetlb"}
