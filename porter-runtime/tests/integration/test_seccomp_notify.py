"""Seccomp notify: the init's listener fd reaches the agent at listenerPath (SCM_RIGHTS) with
the runtime-spec's ContainerProcessState, and the container keeps no copy of it."""

import json
import os
import socket
import threading
import time

import pytest
from host_features import missing_seccomp_action, needs

pytestmark = needs(missing_seccomp_action("user_notif"))


class Agent:
    """A unix socket server that keeps every (message, fds) it receives."""

    def __init__(self, path):
        self.path = path
        self.received = []
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(4)
        self.server.settimeout(20)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                message, fds, _, _ = socket.recv_fds(conn, 65536, 4)
            self.received.append((json.loads(message), fds))

    def wait(self, count, timeout=10):
        """The first `count` messages, once they have all arrived."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(self.received) >= count, f"agent got {len(self.received)} of {count}"
        return self.received[:count]

    def close(self):
        self.server.close()
        for _, fds in self.received:
            for fd in fds:
                os.close(fd)


@pytest.fixture
def agent(tmp_path):
    a = Agent(str(tmp_path / "agent.sock"))
    yield a
    a.close()


def notify_bundle(bundle, agent, nnp=True):
    bundle.config["process"]["noNewPrivileges"] = nnp
    bundle.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": agent.path,
        "listenerMetadata": "porter-test",
        "syscalls": [{"names": ["mknod", "mknodat"], "action": "SCMP_ACT_NOTIFY"}],
    }
    bundle.run_args("sleep", "30")


def notify_fds_of(pid):
    found = []
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{name}") == "anon_inode:seccomp notify":
                found.append(name)
        except OSError:
            continue
    return found


@pytest.mark.parametrize("nnp", [True, False])
def test_agent_receives_the_notify_fd_and_the_container_state(runtime, bundle, agent, nnp):
    notify_bundle(bundle, agent, nnp)
    cid = runtime.new_id()
    runtime("create", "--bundle", str(bundle), cid)
    pid = runtime.state(cid)["pid"]
    ((message, fds),) = agent.wait(1)
    assert message["fds"] == ["seccompFd"] and message["metadata"] == "porter-test"
    assert message["pid"] == pid
    assert message["state"]["id"] == cid and message["state"]["bundle"] == str(bundle)
    assert message["state"]["status"] == "creating"
    assert len(fds) == 1
    assert os.readlink(f"/proc/self/fd/{fds[0]}") == "anon_inode:seccomp notify"


def test_container_process_keeps_no_notify_fd(runtime, bundle, agent):
    notify_bundle(bundle, agent)
    cid = runtime.new_id()
    runtime("run", "-d", "--bundle", str(bundle), cid)
    assert notify_fds_of(runtime.state(cid)["pid"]) == []


def test_exec_sends_its_own_notify_fd(runtime, bundle, agent):
    notify_bundle(bundle, agent)
    cid = runtime.new_id()
    runtime("run", "-d", "--bundle", str(bundle), cid)
    runtime("exec", cid, "true")
    message, _ = agent.wait(2)[1]
    assert message["state"]["id"] == cid and message["state"]["status"] == "running"
    assert message["pid"] != runtime.state(cid)["pid"]


def test_absent_agent_fails_create_with_one_line(runtime, bundle, agent, leftovers, tmp_path):
    notify_bundle(bundle, agent)
    bundle.config["linux"]["seccomp"]["listenerPath"] = str(tmp_path / "nobody-listens.sock")
    bundle.write()
    cid = runtime.new_id()
    result = runtime("create", "--bundle", str(bundle), cid, check=False)
    lines = result.stderr.splitlines()
    assert result.returncode != 0 and len(lines) == 1, result.stderr
    assert "nobody-listens.sock" in lines[0]
    assert leftovers(cid, runtime.root) == []
