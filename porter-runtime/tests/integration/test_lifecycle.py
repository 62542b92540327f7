"""The runtime-spec lifecycle: create, start, state, kill, delete, in every state."""

import os
import secrets
import time

import pytest
from porter_runtime.cgroups.base import rmdir_bounded
from porter_runtime.cgroups.paths import cgroup2_mount, v1_mounts


def test_create_leaves_the_container_created_with_the_user_process_not_run(
    runtime, bundle, tmp_path
):
    cid = runtime.new_id()
    marker = bundle.path / "rootfs" / "tmp" / cid
    bundle.run_args("touch", f"/tmp/{cid}")
    pid_file = tmp_path / "pid"
    runtime("create", "--bundle", str(bundle), "--pid-file", str(pid_file), cid)
    state = runtime.state(cid)
    assert state["status"] == "created"
    assert state["pid"] == int(pid_file.read_text()) > 0
    assert state["bundle"] == str(bundle)
    time.sleep(0.1)
    assert not marker.exists()
    runtime("start", cid)
    runtime.wait_status(cid, "stopped")
    assert marker.exists()
    marker.unlink()


def test_start_runs_the_process_and_state_reports_running(runtime, bundle):
    cid = runtime.new_id()
    bundle.run_args("sleep", "30")
    runtime("create", "--bundle", str(bundle), cid)
    runtime("start", cid)
    assert runtime.state(cid)["status"] == "running"


def test_kill_then_delete_removes_everything(runtime, bundle, leftovers):
    cid = runtime.new_id()
    bundle.run_args("sleep", "30")
    runtime("run", "-d", "--bundle", str(bundle), cid)
    runtime("kill", cid, "KILL")
    runtime.wait_status(cid, "stopped")
    runtime("delete", cid)
    assert runtime("state", cid, check=False).returncode != 0
    assert leftovers(cid, runtime.root, bundle.path / "rootfs") == []


def test_foreground_run_returns_the_exit_status_and_deletes(runtime, bundle, leftovers):
    cid = runtime.new_id()
    bundle.run_args("sh", "-c", "exit 3")
    assert runtime("run", "--bundle", str(bundle), cid, check=False).returncode == 3
    assert leftovers(cid, runtime.root) == []


def test_foreground_run_killed_by_a_signal_exits_128_plus_it(runtime, bundle, runtime_binary):
    import subprocess

    cid = runtime.new_id()
    bundle.run_args("sleep", "30")
    proc = subprocess.Popen(
        [runtime_binary, "--root", runtime.root, "run", "--bundle", str(bundle), cid],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while runtime("state", cid, check=False).stdout.find('"running"') < 0:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        runtime("kill", cid, "KILL")
        assert proc.wait(timeout=10) == 137
    finally:
        proc.kill()
        proc.wait()


def test_start_of_a_running_container_is_an_error(runtime, bundle):
    cid = runtime.new_id()
    bundle.run_args("sleep", "30")
    runtime("run", "-d", "--bundle", str(bundle), cid)
    result = runtime("start", cid, check=False)
    assert result.returncode != 0
    assert "it is running, must be created" in result.stderr


def test_kill_of_a_stopped_container_is_an_error(runtime, bundle):
    cid = runtime.new_id()
    runtime("run", "-d", "--bundle", str(bundle), cid)
    runtime.wait_status(cid, "stopped")
    result = runtime("kill", cid, "KILL", check=False)
    assert result.returncode != 0 and "it is stopped" in result.stderr


def test_kill_of_a_created_container_stops_it(runtime, bundle):
    cid = runtime.new_id()
    runtime("create", "--bundle", str(bundle), cid)
    runtime("kill", cid, "TERM")
    runtime.wait_status(cid, "stopped")


def test_delete_of_a_running_container_without_force_is_an_error(runtime, bundle):
    cid = runtime.new_id()
    bundle.run_args("sleep", "30")
    runtime("run", "-d", "--bundle", str(bundle), cid)
    result = runtime("delete", cid, check=False)
    assert result.returncode != 0 and "use --force" in result.stderr
    assert runtime.state(cid)["status"] == "running"


def test_delete_of_a_created_container_without_force_is_an_error(runtime, bundle):
    cid = runtime.new_id()
    runtime("create", "--bundle", str(bundle), cid)
    assert runtime("delete", cid, check=False).returncode != 0
    assert runtime.state(cid)["status"] == "created"


def test_delete_force_kills_a_running_container(runtime, bundle, leftovers):
    cid = runtime.new_id()
    bundle.run_args("sleep", "30")
    runtime("run", "-d", "--bundle", str(bundle), cid)
    pid = runtime.state(cid)["pid"]
    runtime("delete", "--force", cid)
    assert leftovers(cid, runtime.root, bundle.path / "rootfs") == []
    try:
        with open(f"/proc/{pid}/cmdline") as f:
            assert "sleep" not in f.read()
    except FileNotFoundError:
        pass


def test_state_of_an_unknown_container_says_it_does_not_exist(runtime):
    result = runtime("state", "pt-nonexistent", check=False)
    assert result.returncode == 1
    assert result.stderr == "porter-runtime: error: container 'pt-nonexistent' does not exist\n"


def test_list_shows_containers_as_table_and_json(runtime, bundle):
    cid = runtime.new_id()
    runtime("create", "--bundle", str(bundle), cid)
    assert cid in runtime("list").stdout
    import json

    (entry,) = json.loads(runtime("list", "--format", "json").stdout)
    assert entry["id"] == cid and entry["status"] == "created"


def test_pause_and_resume(runtime, bundle):
    cid = runtime.new_id()
    bundle.run_args("sleep", "30")
    runtime("run", "-d", "--bundle", str(bundle), cid)
    runtime("pause", cid)
    assert runtime.state(cid)["status"] == "paused"
    assert "it is paused" in runtime("pause", cid, check=False).stderr
    runtime("resume", cid)
    assert runtime.state(cid)["status"] == "running"


def test_ps_lists_the_container_processes(runtime, bundle):
    import json

    cid = runtime.new_id()
    bundle.run_args("sleep", "30")
    runtime("run", "-d", "--bundle", str(bundle), cid)
    pid = runtime.state(cid)["pid"]
    assert json.loads(runtime("ps", "--format", "json", cid).stdout) == [pid]
    assert "sleep 30" in runtime("ps", cid).stdout


def test_concurrent_commands_on_one_container_are_serialised(runtime, bundle, runtime_binary):
    import subprocess

    RUNTIME = runtime_binary

    cid = runtime.new_id()
    bundle.run_args("sleep", "30")
    runtime("create", "--bundle", str(bundle), cid)
    procs = [
        subprocess.Popen([RUNTIME, "--root", runtime.root, "start", cid], stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    codes = [p.wait(timeout=30) for p in procs]
    assert sorted(codes) == [0, 1, 1]
    assert runtime.state(cid)["status"] == "running"


def test_create_without_a_process_succeeds_and_only_start_fails(runtime, bundle, leftovers):
    cid = runtime.new_id()
    del bundle.config["process"]
    bundle.write()
    runtime("create", "--bundle", str(bundle), cid)
    assert runtime.state(cid)["status"] == "created"
    result = runtime("start", cid, check=False)
    lines = result.stderr.splitlines()
    assert result.returncode != 0 and len(lines) == 1, result.stderr
    assert "has no process" in lines[0] and cid in lines[0]
    assert runtime.state(cid)["status"] == "created"
    runtime("kill", cid, "KILL")
    runtime.wait_status(cid, "stopped")
    runtime("delete", cid)
    assert leftovers(cid, runtime.root, bundle.path / "rootfs") == []


def test_container_without_a_process_is_deleted_with_force(runtime, bundle, leftovers):
    cid = runtime.new_id()
    del bundle.config["process"]
    bundle.write()
    runtime("create", "--bundle", str(bundle), cid)
    runtime("delete", "--force", cid)
    assert leftovers(cid, runtime.root, bundle.path / "rootfs") == []


@pytest.fixture
def systemd_slice():
    """A slice name of this test's; its folders are removed from every hierarchy afterwards."""
    name = f"portertest{secrets.token_hex(4)}.slice"  # no dash: systemd would nest it
    yield name
    for mount in set(v1_mounts().values()) | {cgroup2_mount() or ""}:
        if mount:
            rmdir_bounded(os.path.join(mount, name))


def test_systemd_cgroup_flag_places_the_cgroup_where_systemd_would(runtime, bundle, systemd_slice):
    """--systemd-cgroup is accepted (cgroupfs does the work) and "slice:prefix:name" lands in
    the scope systemd would have made."""
    cid = runtime.new_id()
    bundle.config["linux"]["cgroupsPath"] = f"{systemd_slice}:porter:{cid}"
    bundle.run_args("sleep", "30")
    bundle.write()
    runtime("--systemd-cgroup", "create", "--bundle", str(bundle), cid)
    with open(f"/proc/{runtime.state(cid)['pid']}/cgroup") as f:
        paths = {line.split(":", 2)[1]: line.rstrip("\n").split(":", 2)[2] for line in f}
    assert paths["pids"] == f"/{systemd_slice}/porter-{cid}.scope"
    runtime("--systemd-cgroup", "delete", "--force", cid)
