"""`exec` into a running container (runc's command line; not in runtime.md itself)."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def _running(lab):
    container = lab.container(lab.bundle(["sleep", "30"]))
    container.create().check()
    container.start().check()
    return container


def _exec_report(lab, container, *args: str) -> dict:
    outcome = lab.runtime.call("exec", *args, container.id, "/probe").check()
    return json.loads(outcome.stdout)


def test_exec_runs_in_container_namespaces(lab):
    container = _running(lab)
    report = _exec_report(lab, container)
    for kind in ("pid", "net", "ipc", "uts", "mnt"):
        assert report["namespaces"][kind] == os.readlink(f"/proc/{container.pid}/ns/{kind}")


def test_exec_sees_container_root(lab):
    container = _running(lab)
    (container.bundle.rootfs / "inside-marker").write_text("here\n")
    outcome = lab.runtime.call("exec", container.id, "cat", "/inside-marker").check()
    assert outcome.stdout == "here\n"


def test_exec_returns_process_exit_status(lab):
    container = _running(lab)
    outcome = lab.runtime.call("exec", container.id, "sh", "-c", "exit 7")
    assert outcome.returncode == 7


def test_exec_cwd_option_sets_working_directory(lab):
    report = _exec_report(lab, _running(lab), "--cwd", "/tmp")
    assert report["cwd"] == "/tmp"


def test_exec_env_option_adds_variable(lab):
    report = _exec_report(lab, _running(lab), "-e", "EXTRA=1")
    assert "EXTRA=1" in report["env"]


def test_exec_user_option_sets_uid_and_gid(lab):
    report = _exec_report(lab, _running(lab), "--user", "1000:1000")
    assert (report["uid"], report["gid"]) == (1000, 1000)


def test_exec_with_process_json(lab):
    container = _running(lab)
    process = dict(container.bundle.process)
    process.update(args=["/probe"], cwd="/tmp", env=["PATH=/bin", "FROM_JSON=yes"])
    process_file = lab.workdir / "process.json"
    process_file.write_text(json.dumps(process))
    outcome = lab.runtime.call("exec", "--process", str(process_file), container.id).check()
    report = json.loads(outcome.stdout)
    assert report["cwd"] == "/tmp"
    assert "FROM_JSON=yes" in report["env"]


def test_exec_into_stopped_container_fails(lab):
    container = lab.container(lab.bundle(["true"]))
    container.create().check()
    container.start().check()
    container.wait("stopped")
    assert not lab.runtime.call("exec", container.id, "true").ok


def test_exec_into_nonexistent_container_fails(lab):
    assert not lab.runtime.call("exec", lab.new_id(), "true").ok


def test_exec_leaves_init_running(lab):
    container = _running(lab)
    lab.runtime.call("exec", container.id, "true").check()
    assert container.state()["status"] == "running"


def _detached(lab, container, *args: str) -> int:
    """`exec -d --pid-file`; returns the pid from the file (reaped at cleanup)."""
    pid_file = lab.workdir / f"exec-{secrets.token_hex(3)}.pid"
    lab.runtime.call("exec", "-d", "--pid-file", str(pid_file), container.id, *args).check()
    pid = int(pid_file.read_text().strip())
    lab.adopt(pid)
    return pid


def test_exec_detached_returns_while_process_runs(lab):
    container = _running(lab)
    pid = _detached(lab, container, "sleep", "30")
    assert Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:2] == [b"sleep", b"30"]


def test_exec_pid_file_names_process_in_container(lab):
    container = _running(lab)
    pid = _detached(lab, container, "sleep", "30")
    for kind in ("pid", "mnt"):
        assert os.readlink(f"/proc/{pid}/ns/{kind}") == os.readlink(
            f"/proc/{container.pid}/ns/{kind}"
        )
