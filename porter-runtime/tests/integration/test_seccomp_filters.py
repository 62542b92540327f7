"""Filters installed for real: a forked child installs one, then tries syscalls.

Each child reports what it saw through a pipe and exits with os._exit, so nothing of
the test process runs under the filter. A child that is killed reports nothing; its
wait status tells how it died.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import shutil
import signal
import socket
import subprocess

import pytest
from porter_runtime.seccomp import (
    SeccompProgram,
    compile_seccomp,
    install_seccomp,
    send_seccomp_fd,
)

pytestmark = pytest.mark.integration

BUSYBOX = shutil.which("busybox")


def in_child(seccomp, action):
    """Fork, install the compiled filter, run action() -> JSON-able; (status, result)."""
    return in_child_program(compile_seccomp(seccomp), action)


def in_child_program(program, action):
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os.close(read_fd)
        try:
            install_seccomp(program)
            result = action()
            os.write(write_fd, json.dumps(result).encode())
        except BaseException as e:  # report, never return into pytest
            os.write(write_fd, json.dumps({"error": repr(e)}).encode())
        finally:
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    return status, (json.loads(data) if data else None)


def try_call(fn, *args):
    """0 when the call works, else its errno."""
    try:
        result = fn(*args)
        if isinstance(result, socket.socket):
            result.close()
        return 0
    except OSError as e:
        return e.errno


def mkdir_probe(tmp_path):
    return lambda: try_call(os.mkdir, str(tmp_path / "made"))


DENY_MKDIR = {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}


def test_denied_syscall_fails_with_eperm_by_default(tmp_path):
    _, seen = in_child(
        {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [DENY_MKDIR]}, mkdir_probe(tmp_path)
    )
    assert seen == errno.EPERM and not (tmp_path / "made").exists()


def test_denied_syscall_fails_with_the_configured_errno(tmp_path):
    rule = {**DENY_MKDIR, "errnoRet": errno.ENOSYS}
    _, seen = in_child(
        {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [rule]}, mkdir_probe(tmp_path)
    )
    assert seen == errno.ENOSYS


def test_syscalls_not_named_keep_working(tmp_path):
    def action():
        (tmp_path / "file").write_text("ok")
        return os.getpid() > 0

    _, seen = in_child({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [DENY_MKDIR]}, action)
    assert seen is True and (tmp_path / "file").read_text() == "ok"


def socket_probe():
    return {
        "inet": try_call(socket.socket, socket.AF_INET, socket.SOCK_STREAM),
        "unix": try_call(socket.socket, socket.AF_UNIX, socket.SOCK_STREAM),
    }


def test_argument_condition_denies_only_matching_calls():
    rule = {
        "names": ["socket"],
        "action": "SCMP_ACT_ERRNO",
        "errnoRet": errno.EAFNOSUPPORT,
        "args": [{"index": 0, "value": socket.AF_INET, "op": "SCMP_CMP_EQ"}],
    }
    _, seen = in_child({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [rule]}, socket_probe)
    assert seen == {"inet": errno.EAFNOSUPPORT, "unix": 0}


def test_allow_list_with_errno_default_denies_everything_else():
    rule = {
        "names": ["socket"],
        "action": "SCMP_ACT_ALLOW",
        "args": [{"index": 0, "value": socket.AF_UNIX, "op": "SCMP_CMP_EQ"}],
    }
    allowed = {"names": sorted(PYTHON_NEEDS), "action": "SCMP_ACT_ALLOW"}
    seccomp = {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [rule, allowed]}
    _, seen = in_child(seccomp, socket_probe)
    assert seen == {"inet": errno.EPERM, "unix": 0}


# what the child needs between install and _exit (allocation, close, write, signals)
PYTHON_NEEDS = {
    "brk", "mmap", "munmap", "mremap", "madvise", "close", "write", "exit", "exit_group",
    "rt_sigreturn", "rt_sigprocmask", "rt_sigaction", "futex", "getpid", "gettid",
}  # fmt: skip


def test_masked_equality_matches_flag_bits():
    rule = {
        "names": ["socket"],
        "action": "SCMP_ACT_ERRNO",
        "args": [
            {"index": 1, "value": 0xF, "valueTwo": socket.SOCK_DGRAM, "op": "SCMP_CMP_MASKED_EQ"}
        ],
    }

    def action():
        return {
            "dgram": try_call(socket.socket, socket.AF_UNIX, socket.SOCK_DGRAM),
            "dgram_cloexec": try_call(
                socket.socket, socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_NONBLOCK
            ),
            "stream": try_call(socket.socket, socket.AF_UNIX, socket.SOCK_STREAM),
        }

    _, seen = in_child({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [rule]}, action)
    assert seen == {"dgram": errno.EPERM, "dgram_cloexec": errno.EPERM, "stream": 0}


def test_two_conditions_on_one_argument_match_either():
    personality = ctypes.CDLL(None, use_errno=True).personality
    rule = {
        "names": ["personality"],
        "action": "SCMP_ACT_ERRNO",
        "args": [
            {"index": 0, "value": 0x0008, "op": "SCMP_CMP_EQ"},
            {"index": 0, "value": 0x0200, "op": "SCMP_CMP_EQ"},
        ],
    }

    def action():
        results = []
        for value in (0x0008, 0x0200, 0xFFFFFFFF):
            ctypes.set_errno(0)
            personality(ctypes.c_ulong(value))
            results.append(ctypes.get_errno())
        return results

    _, seen = in_child({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [rule]}, action)
    assert seen == [errno.EPERM, errno.EPERM, 0]


@pytest.mark.parametrize("action", ["SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP"])
def test_killing_actions_end_the_process_with_sigsys(tmp_path, action):
    rule = {"names": ["mkdir", "mkdirat"], "action": action}
    status, seen = in_child(
        {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [rule]}, mkdir_probe(tmp_path)
    )
    assert seen is None
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSYS


def test_log_action_allows_the_call(tmp_path):
    rule = {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_LOG"}
    _, seen = in_child(
        {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [rule]}, mkdir_probe(tmp_path)
    )
    assert seen == 0


def test_filter_flags_are_accepted_by_the_kernel(tmp_path):
    seccomp = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
        "syscalls": [DENY_MKDIR],
    }
    _, seen = in_child(seccomp, mkdir_probe(tmp_path))
    assert seen == errno.EPERM


def test_kernel_refusing_the_filter_is_a_clear_error():
    program = compile_seccomp({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [DENY_MKDIR]})
    bogus = SeccompProgram(program.bpf, flags=1 << 20)
    _, seen = in_child_program(bogus, lambda: "installed")
    assert "the kernel refused the filter: Invalid argument" in seen["error"]


@pytest.mark.skipif(BUSYBOX is None, reason="needs busybox")
def test_filter_survives_execve(tmp_path):
    program = compile_seccomp(
        {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{**DENY_MKDIR, "errnoRet": errno.ENOSYS}]}
    )
    target = tmp_path / "made"
    done = subprocess.run(
        [BUSYBOX, "mkdir", str(target)],
        preexec_fn=lambda: install_seccomp(program),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode != 0 and not target.exists()
    assert "Function not implemented" in done.stderr


def test_without_cap_sys_admin_install_sets_no_new_privs():
    def action():
        with open("/proc/self/status") as f:
            return [line for line in f.read().splitlines() if line.startswith("NoNewPrivs")]

    program = compile_seccomp({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [DENY_MKDIR]})
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.setgid(65534)
            os.setuid(65534)  # drops every capability
            install_seccomp(program)
            os.write(write_fd, json.dumps(action()).encode())
        finally:
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as f:
        seen = json.loads(f.read())
    os.waitpid(pid, 0)
    assert seen == ["NoNewPrivs:\t1"]


def test_notify_fd_reaches_the_listener_with_the_process_state(tmp_path):
    listener_path = str(tmp_path / "agent.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(listener_path)
    server.listen(1)
    rule = {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}
    seccomp = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": listener_path,
        "listenerMetadata": "hello",
        "syscalls": [rule],
    }
    program = compile_seccomp(seccomp)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            fd = install_seccomp(program)
            send_seccomp_fd(program, fd, os.getpid(), {"ociVersion": "1.2.0", "id": "c1"})
        finally:
            os._exit(0)
    try:
        conn, _ = server.accept()
        with conn:
            message, fds, _, _ = socket.recv_fds(conn, 65536, 1)
        os.waitpid(pid, 0)
    finally:
        server.close()
    try:
        state = json.loads(message)
        assert state["fds"] == ["seccompFd"] and state["metadata"] == "hello"
        assert state["pid"] == pid and state["state"]["id"] == "c1"
        assert os.readlink(f"/proc/self/fd/{fds[0]}") == "anon_inode:seccomp notify"
    finally:
        for fd in fds:
            os.close(fd)
