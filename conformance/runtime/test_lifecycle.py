"""Lifecycle and state: create, start, state, kill, delete in every state (runtime.md)."""

from __future__ import annotations

import os
import signal as signals
import time
from pathlib import Path

import pytest

from conformance.runtime import hostfs

pytestmark = pytest.mark.integration

MARKER_SCRIPT = "echo 'process called' >> /output"


def _marker_bundle(lab):
    return lab.bundle(["sh", "-c", MARKER_SCRIPT])


def _sleeper(lab, seconds: int = 30):
    return lab.container(lab.bundle(["sleep", str(seconds)]))


def test_create_leaves_container_created(lab):
    container = lab.container(lab.bundle(["true"]))
    container.create().check()
    assert container.state()["status"] == "created"


def test_create_does_not_run_process_args(lab):
    bundle = _marker_bundle(lab)
    container = lab.container(bundle)
    container.create().check()
    assert not (bundle.rootfs / "output").exists()


def test_created_state_has_live_pid(lab):
    container = lab.container(lab.bundle(["true"]))
    container.create().check()
    pid = container.state()["pid"]
    assert pid > 0
    os.kill(pid, 0)


def test_state_reports_spec_fields(lab):
    bundle = lab.bundle(["true"])
    bundle.config["annotations"] = {"org.example.key": "value"}
    container = lab.container(bundle)
    container.create().check()
    state = container.state()
    assert state["ociVersion"]
    assert state["id"] == container.id
    assert state["status"] == "created"
    assert os.path.isabs(state["bundle"])
    assert os.path.realpath(state["bundle"]) == os.path.realpath(bundle.path)
    assert state.get("annotations") == {"org.example.key": "value"}


def test_start_runs_the_process(lab):
    bundle = _marker_bundle(lab)
    lab.container(bundle).run_to_exit()
    assert (bundle.rootfs / "output").read_text() == "process called\n"


def test_running_container_reports_running(lab):
    container = _sleeper(lab)
    container.create().check()
    container.start().check()
    assert container.state()["status"] == "running"


def test_exited_container_reports_stopped(lab):
    container = lab.container(lab.bundle(["true"]))
    container.create().check()
    container.start().check()
    assert container.wait("stopped")["status"] == "stopped"


def test_start_twice_fails(lab):
    container = _sleeper(lab)
    container.create().check()
    container.start().check()
    assert not container.start().ok


def test_start_stopped_fails_without_effect(lab):
    bundle = _marker_bundle(lab)
    container = lab.container(bundle)
    container.create().check()
    container.start().check()
    container.wait("stopped")
    assert not container.start().ok
    assert (bundle.rootfs / "output").read_text() == "process called\n"


def test_start_nonexistent_fails(lab):
    assert not lab.runtime.start(lab.new_id()).ok


def test_start_without_id_fails(lab):
    assert not lab.runtime.call("start").ok


def test_create_without_id_fails(lab):
    bundle = lab.bundle(["true"]).write()
    assert not lab.runtime.call("create", "--bundle", str(bundle.path)).ok


def test_create_duplicate_id_fails(lab):
    first = _sleeper(lab)
    first.create().check()
    second = lab.container(lab.bundle(["true"]), first.id)
    assert not second.create().ok
    assert first.state()["status"] == "created"
    assert first.state()["pid"] == first.pid


def test_state_of_nonexistent_fails(lab):
    assert not lab.runtime.call("state", lab.new_id()).ok


def test_state_without_id_fails(lab):
    assert not lab.runtime.call("state").ok


def test_kill_created_delivers_signal(lab):
    container = _sleeper(lab)
    container.create().check()
    container.kill("KILL").check()
    assert container.wait("stopped")["status"] == "stopped"


def test_kill_running_delivers_signal(lab):
    container = _sleeper(lab)
    container.create().check()
    container.start().check()
    container.kill("KILL").check()
    assert container.wait("stopped")["status"] == "stopped"


def test_kill_without_signal_sends_term(lab):
    bundle, container = _trapping(lab, "TERM")
    lab.runtime.call("kill", container.id).check()
    container.wait("stopped")
    assert (bundle.rootfs / "TERM").exists()


def test_kill_stopped_fails(lab):
    container = lab.container(lab.bundle(["true"]))
    container.create().check()
    container.start().check()
    container.wait("stopped")
    assert not container.kill("KILL").ok


def test_kill_stopped_has_no_effect(lab):
    container = lab.container(lab.bundle(["true"]))
    container.create().check()
    container.start().check()
    before = container.wait("stopped")
    container.kill("KILL")
    assert container.state() == before


def test_kill_nonexistent_fails(lab):
    assert not lab.runtime.kill(lab.new_id(), "KILL").ok


def test_kill_without_id_fails(lab):
    assert not lab.runtime.call("kill").ok


@pytest.mark.parametrize("signal", ["TERM", "USR1", "USR2", "HUP", "INT"])
def test_kill_signal_is_trapped_by_process(lab, signal):
    bundle, container = _trapping(lab, signal)
    container.kill(signal).check()
    container.wait("stopped")
    assert (bundle.rootfs / signal).exists()


def _trapping(lab, signal: str):
    """A running shell that records `signal` in /<signal> when it arrives, then exits."""
    script = f"trap 'touch /{signal}; exit 0' {signal}; sleep 30 & wait $!"
    bundle = lab.bundle(["sh", "-c", script])
    container = lab.container(bundle)
    container.create().check()
    container.start().check()
    container.wait("running")
    _wait_for_trap_install(container)
    return bundle, container


def _wait_for_trap_install(container) -> None:
    """The shell must have reached `wait` (its sleep child exists) before we signal."""
    deadline = time.monotonic() + 5
    children = Path(f"/proc/{container.pid}/task/{container.pid}/children")
    while time.monotonic() < deadline:
        if children.exists() and children.read_text().strip():
            return
        time.sleep(0.02)


def test_kill_accepts_signal_number(lab):
    container = _sleeper(lab)
    container.create().check()
    container.start().check()
    container.kill("9").check()
    assert container.wait("stopped")["status"] == "stopped"


def test_delete_stopped_removes_container(lab):
    container = lab.container(lab.bundle(["true"]))
    container.create().check()
    container.start().check()
    container.wait("stopped")
    container.delete().check()
    assert container.try_state() is None


def test_delete_created_without_force_fails(lab):
    container = _sleeper(lab)
    container.create().check()
    assert not container.delete().ok
    assert container.state()["status"] == "created"


def test_delete_running_without_force_fails(lab):
    container = _sleeper(lab)
    container.create().check()
    container.start().check()
    assert not container.delete().ok
    assert container.state()["status"] == "running"


def test_delete_force_removes_running_container(lab):
    container = _sleeper(lab)
    container.create().check()
    container.start().check()
    container.delete(force=True).check()
    assert container.try_state() is None
    assert not _alive(container.pid)


def test_delete_nonexistent_fails(lab):
    assert not lab.runtime.delete(lab.new_id()).ok


def test_delete_without_id_fails(lab):
    assert not lab.runtime.call("delete").ok


def test_pid_file_holds_container_pid(lab):
    container = _sleeper(lab)
    pid_file = lab.workdir / "container.pid"
    container.create("--pid-file", str(pid_file)).check()
    assert int(pid_file.read_text().strip()) == container.state()["pid"]


def test_config_changes_after_create_have_no_effect(lab):
    bundle = _marker_bundle(lab)
    container = lab.container(bundle)
    container.create().check()
    bundle.config["process"]["args"] = ["sh", "-c", "echo changed >> /output"]
    bundle.write()
    container.start().check()
    container.wait("stopped")
    assert (bundle.rootfs / "output").read_text() == "process called\n"


@pytest.mark.parametrize("status", [0, 3, 42])
def test_run_returns_process_exit_status(lab, status):
    bundle = lab.bundle(["sh", "-c", f"exit {status}"]).write()
    container = lab.container(bundle)
    outcome = lab.runtime.call("run", "--bundle", str(bundle.path), container.id)
    assert outcome.returncode == status


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] not in "ZX"
    except (OSError, IndexError):
        return False


def test_run_detached_leaves_container_running(lab):
    container = _sleeper(lab)
    container.run_detached().check()
    assert container.state()["status"] == "running"


def _without_pid_namespace(bundle) -> None:
    """The host's pid namespace: no init of a namespace, so no signal is ignored by default."""
    bundle.linux["namespaces"] = [ns for ns in bundle.linux["namespaces"] if ns["type"] != "pid"]


@pytest.mark.parametrize("signal", ["KILL", "TERM", "HUP", "USR1"])
def test_run_exit_status_of_killed_process_is_128_plus_signal(lab, signal):
    bundle = lab.bundle(["sleep", "30"])
    _without_pid_namespace(bundle)
    container = lab.container(bundle)
    process = container.run_in_foreground()
    container.wait("running")
    container.note_process()
    container.kill(signal).check()
    assert process.wait(timeout=10) == 128 + getattr(signals.Signals, f"SIG{signal}")


def _cgroup_members(pid: int, count: int) -> list[int]:
    """The pids in `pid`'s cgroup, once there are `count` of them (bounded wait)."""
    deadline = time.monotonic() + 5
    while True:
        members = [int(p) for p in hostfs.read_cgroup(pid, "pids", "cgroup.procs").split()]
        if len(members) >= count or time.monotonic() > deadline:
            return members
        time.sleep(0.02)


def test_kill_all_signals_every_process(lab):
    bundle = lab.bundle(["sh", "-c", "sleep 30 & sleep 30 & wait"])
    _without_pid_namespace(bundle)  # killing the init alone would leave its children alive
    container = lab.container(bundle)
    container.create().check()
    container.start().check()
    members = _cgroup_members(container.pid, 3)
    for pid in members:
        lab.adopt(pid)
    lab.runtime.call("kill", "--all", container.id, "KILL").check()
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in members) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(members) == 3
    assert [pid for pid in members if _alive(pid)] == []
