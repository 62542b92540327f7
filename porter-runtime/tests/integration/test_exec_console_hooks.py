"""exec, the console socket, hooks, and the runtime executable staying out of reach."""

import hashlib
import json
import os
import socket
import sys
import threading


def running(runtime, bundle):
    cid = runtime.new_id()
    bundle.run_args("sleep", "30")
    runtime("run", "-d", "--bundle", str(bundle), cid)
    return cid


def test_exec_runs_in_the_container_namespaces(runtime, bundle):
    cid = running(runtime, bundle)
    out = runtime("exec", cid, "ps", "-o", "pid,args").stdout
    assert "1 sleep 30" in " ".join(out.split())


def test_exec_returns_the_process_exit_status(runtime, bundle):
    cid = running(runtime, bundle)
    assert runtime("exec", cid, "sh", "-c", "exit 5", check=False).returncode == 5


def test_exec_with_env_user_and_cwd(runtime, bundle):
    cid = running(runtime, bundle)
    out = runtime(
        "exec",
        "-e",
        "X=1",
        "--user",
        "7:8",
        "--cwd",
        "/tmp",
        cid,
        "sh",
        "-c",
        "echo $X; id -u; id -g; pwd",
    ).stdout.split()
    assert out == ["1", "7", "8", "/tmp"]


def test_exec_with_a_process_file(runtime, bundle, tmp_path):
    cid = running(runtime, bundle)
    process = {
        "args": ["sh", "-c", "echo from-file"],
        "cwd": "/",
        "env": ["PATH=/bin"],
        "user": {"uid": 0, "gid": 0},
    }
    (tmp_path / "p.json").write_text(json.dumps(process))
    assert runtime("exec", "-p", str(tmp_path / "p.json"), cid).stdout == "from-file\n"


def test_exec_into_a_stopped_container_is_an_error(runtime, bundle):
    cid = runtime.new_id()
    runtime("run", "-d", "--bundle", str(bundle), cid)
    runtime.wait_status(cid, "stopped")
    result = runtime("exec", cid, "true", check=False)
    assert result.returncode != 0 and "it is stopped" in result.stderr


def receive_console(path, received):
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    server.settimeout(20)

    def accept():
        conn, _ = server.accept()
        msg, fds, _, _ = socket.recv_fds(conn, 1024, 1)
        received.append((msg, fds))
        conn.close()
        server.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    return thread


def read_all(fd, limit=4096):
    import select

    data = b""
    while select.select([fd], [], [], 5)[0]:
        try:
            chunk = os.read(fd, limit)
        except OSError:  # EIO once the slave side is closed
            break
        if not chunk:
            break
        data += chunk
    return data


def test_console_socket_receives_the_pty_master(runtime, bundle, tmp_path):
    sock_path = str(tmp_path / "console.sock")
    received = []
    thread = receive_console(sock_path, received)
    cid = runtime.new_id()
    bundle.config["process"]["terminal"] = True
    bundle.run_args("sh", "-c", "tty; echo on-the-tty")
    runtime("create", "--console-socket", sock_path, "--bundle", str(bundle), cid)
    thread.join(20)
    ((_, fds),) = received
    runtime("start", cid)
    output = read_all(fds[0]).decode()
    os.close(fds[0])
    assert "/dev/pts/0" in output and "on-the-tty" in output


def test_exec_with_a_terminal(runtime, bundle, tmp_path):
    cid = running(runtime, bundle)
    sock_path = str(tmp_path / "exec-console.sock")
    received = []
    thread = receive_console(sock_path, received)
    runtime(
        "exec", "-d", "-t", "--console-socket", sock_path, cid, "sh", "-c", "tty; echo exec-tty"
    )
    thread.join(20)
    ((_, fds),) = received
    output = read_all(fds[0]).decode()
    os.close(fds[0])
    assert "exec-tty" in output and "/dev/pts/" in output


def test_hooks_get_the_state_on_stdin_in_order(runtime, bundle, tmp_path):
    log = tmp_path / "hooks.log"
    hook = tmp_path / "hook.sh"
    hook.write_text(f'#!/bin/sh\necho "$1 $(cat)" >> {log}\n')
    hook.chmod(0o755)
    hooks = {
        kind: [{"path": str(hook), "args": ["hook", kind]}]
        for kind in ("prestart", "createRuntime", "createContainer", "poststart", "poststop")
    }
    bundle.config["hooks"] = hooks
    bundle.write()
    cid = runtime.new_id()
    runtime("run", "--bundle", str(bundle), cid)
    lines = log.read_text().splitlines()
    assert [line.split()[0] for line in lines] == [
        "prestart",
        "createRuntime",
        "createContainer",
        "poststart",
        "poststop",
    ]
    states = [json.loads(line.split(" ", 1)[1]) for line in lines]
    assert all(s["id"] == cid for s in states)
    assert states[0]["status"] == "creating" and states[-1]["status"] == "stopped"
    assert states[0]["pid"] > 0


def test_start_container_hook_runs_inside_the_container(runtime, bundle):
    bundle.config["hooks"] = {
        "startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "hostname > /tmp/start-hook"]}]
    }
    bundle.config["hostname"] = "hooked"
    cid = runtime.new_id()
    bundle.run_args("cat", "/tmp/start-hook")
    assert runtime("run", "--bundle", str(bundle), cid).stdout.strip() == "hooked"
    os.unlink(bundle.path / "rootfs" / "tmp" / "start-hook")


def test_hook_timeout_fails_create(runtime, bundle, leftovers):
    bundle.config["hooks"] = {
        "createRuntime": [{"path": "/bin/sleep", "args": ["sleep", "10"], "timeout": 1}]
    }
    cid = runtime.new_id()
    bundle.write()
    result = runtime("create", "--bundle", str(bundle), cid, check=False)
    assert result.returncode != 0 and "timed out" in result.stderr
    assert leftovers(cid, runtime.root) == []


def test_container_cannot_overwrite_the_runtime_interpreter(runtime, bundle):
    """runc's CVE-2019-5736: the created init is the runtime's interpreter, waiting on the
    exec fifo as pid 1; a process in the container must not open its /proc/1/exe."""
    interpreter = os.path.realpath(sys.executable)
    with open(interpreter, "rb") as f:
        before = hashlib.sha256(f.read()).hexdigest()
    cid = runtime.new_id()
    runtime("create", "--bundle", str(bundle), cid)
    result = runtime(
        "exec",
        cid,
        "sh",
        "-c",
        "echo pwned >> /proc/1/exe && echo WROTE; cat /proc/1/exe > /dev/null && echo READ",
        check=False,
    )
    assert "WROTE" not in result.stdout and "READ" not in result.stdout
    assert "Permission denied" in result.stderr or "denied" in result.stderr.lower()
    with open(interpreter, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == before
