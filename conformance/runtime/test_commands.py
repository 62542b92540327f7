"""runc's commands beyond runtime.md that tools depend on: pause, resume, update, events,
ps, list, features, spec.

Their output formats are runc's (podman, containerd and conmon parse them), so the
checks hold a runtime to the shapes runc prints.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from porter_specs.validate import validate

from conformance.runtime import hostfs
from conformance.runtime.host_features import missing_controller, missing_freezer, needs

pytestmark = pytest.mark.integration

SPEC_HOOKS = (
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
)  # fmt: skip
SPEC_NAMESPACES = ("cgroup", "ipc", "mount", "network", "pid", "user", "uts")


def _running(lab, args: list[str] | None = None):
    container = lab.container(lab.bundle(args or ["sleep", "30"]))
    container.create().check()
    container.start().check()
    return container


def _cpu_ticks(pid: int) -> int:
    """utime + stime of `pid`, in clock ticks (/proc/<pid>/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _ticks_advance(pid: int, timeout: float = 5.0) -> bool:
    start = _cpu_ticks(pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _cpu_ticks(pid) > start:
            return True
        time.sleep(0.05)
    return False


BUSY_LOOP = ["sh", "-c", "while :; do :; done"]
NEEDS_FREEZER = needs(missing_freezer())
NEEDS_MEMORY = needs(missing_controller("memory"))
NEEDS_PIDS = needs(missing_controller("pids"))


@NEEDS_FREEZER
def test_pause_reports_paused(lab):
    container = _running(lab)
    lab.runtime.call("pause", container.id).check()
    assert container.state()["status"] == "paused"


@NEEDS_FREEZER
def test_paused_state_keeps_spec_fields(lab):
    container = _running(lab)
    lab.runtime.call("pause", container.id).check()
    state = container.state()
    validate(state, "runtime-state", what=f"state of paused {container.id}")
    assert (state["id"], state["pid"]) == (container.id, container.pid)


@NEEDS_FREEZER
def test_paused_process_does_not_run(lab):
    container = _running(lab, BUSY_LOOP)
    assert _ticks_advance(container.pid), "the busy loop never ran"
    lab.runtime.call("pause", container.id).check()
    frozen = _cpu_ticks(container.pid)
    time.sleep(0.3)
    assert _cpu_ticks(container.pid) == frozen


@NEEDS_FREEZER
def test_resume_runs_process_again(lab):
    container = _running(lab, BUSY_LOOP)
    lab.runtime.call("pause", container.id).check()
    lab.runtime.call("resume", container.id).check()
    assert container.state()["status"] == "running"
    assert _ticks_advance(container.pid)


def _memory_limit(pid: int) -> str:
    name = "memory.limit_in_bytes" if "memory" in hostfs.cgroup_mounts() else "memory.max"
    return hostfs.read_cgroup(pid, "memory", name)


@NEEDS_MEMORY
def test_update_changes_memory_limit(lab):
    container = _running(lab)
    lab.runtime.call("update", "--memory", str(64 * 1024 * 1024), container.id).check()
    assert _memory_limit(container.pid) == str(64 * 1024 * 1024)


@NEEDS_MEMORY
def test_update_memory_accepts_unit_suffix(lab):
    """runc parses sizes as docker does (units.RAMInBytes): "64M" is 64 MiB."""
    container = _running(lab)
    lab.runtime.call("update", "--memory", "64M", container.id).check()
    assert _memory_limit(container.pid) == str(64 * 1024 * 1024)


@NEEDS_PIDS
def test_update_changes_pids_limit(lab):
    container = _running(lab)
    lab.runtime.call("update", "--pids-limit", "50", container.id).check()
    assert hostfs.read_cgroup(container.pid, "pids", "pids.max") == "50"


@NEEDS_PIDS
def test_update_reads_resources_file(lab):
    container = _running(lab)
    resources = lab.workdir / "resources.json"
    resources.write_text(json.dumps({"pids": {"limit": 77}}))
    lab.runtime.call("update", "-r", str(resources), container.id).check()
    assert hostfs.read_cgroup(container.pid, "pids", "pids.max") == "77"


def _stats(lab, container) -> list[dict]:
    outcome = lab.runtime.call("events", "--stats", container.id).check()
    return [json.loads(line) for line in outcome.stdout.splitlines() if line.strip()]


def test_events_stats_prints_one_stats_object(lab):
    container = _running(lab)
    events = _stats(lab, container)
    assert [(event["type"], event["id"]) for event in events] == [("stats", container.id)]


@NEEDS_MEMORY
@NEEDS_PIDS
def test_events_stats_reports_memory_cpu_and_pids(lab):
    container = _running(lab)
    data = _stats(lab, container)[0]["data"]
    assert data["memory"]["usage"]["usage"] > 0
    assert isinstance(data["cpu"]["usage"]["total"], int)
    assert data["pids"]["current"] == 1


def test_ps_json_lists_container_pids(lab):
    container = _running(lab)
    outcome = lab.runtime.call("ps", "--format", "json", container.id).check()
    assert json.loads(outcome.stdout) == [container.pid]


def test_list_table_shows_container(lab):
    container = _running(lab)
    lines = lab.runtime.call("list").check().stdout.splitlines()
    assert lines[0].split()[:4] == ["ID", "PID", "STATUS", "BUNDLE"]
    row = next(line.split() for line in lines[1:] if line.split()[0] == container.id)
    assert row[1:4] == [str(container.pid), "running", str(container.bundle.path)]


def test_list_json_describes_container(lab):
    container = _running(lab)
    entries = json.loads(lab.runtime.call("list", "--format", "json").check().stdout)
    entry = next(entry for entry in entries if entry["id"] == container.id)
    assert (entry["status"], entry["pid"]) == ("running", container.pid)
    assert os.path.realpath(entry["bundle"]) == os.path.realpath(container.bundle.path)


def test_list_names_the_owner_of_each_container(lab):
    container = _running(lab)
    entries = json.loads(lab.runtime.call("list", "--format", "json").check().stdout)
    entry = next(entry for entry in entries if entry["id"] == container.id)
    assert entry["owner"] == "root"


def test_state_leaves_the_owner_empty(lab):
    container = _running(lab)
    state = json.loads(lab.runtime.call("state", container.id).check().stdout)
    assert state["owner"] == ""


def _features(lab) -> dict:
    return json.loads(lab.runtime.call("features").check().stdout)


def test_features_reports_oci_version_range(lab):
    features = _features(lab)
    low, high = features["ociVersionMin"], features["ociVersionMax"]
    assert low.startswith("1.0.") and high.startswith("1.")


def test_features_lists_every_hook(lab):
    assert set(_features(lab)["hooks"]) >= set(SPEC_HOOKS)


def test_features_lists_mount_options(lab):
    assert {"bind", "rbind", "nosuid", "noexec", "nodev"} <= set(_features(lab)["mountOptions"])


def test_features_lists_linux_namespaces(lab):
    assert set(_features(lab)["linux"]["namespaces"]) >= set(SPEC_NAMESPACES)


@pytest.mark.parametrize("flags", [[], ["--rootless"]], ids=["default", "rootless"])
def test_spec_writes_valid_config(lab, flags):
    bundle = lab.workdir / "spec-bundle"
    bundle.mkdir()
    lab.runtime.call("spec", *flags, "--bundle", str(bundle)).check()
    config = json.loads((bundle / "config.json").read_text())
    validate(config, "runtime-config", what=f"{lab.runtime.name} spec {' '.join(flags)}")
