"""What a container may do, checked from the inside through a real porterd driven by
docker-py: the default seccomp profile, `seccomp=unconfined`, and `--privileged` (every
device of the host, every capability, no filter, any device allowed by its cgroup)."""

from __future__ import annotations

import stat
import sys
from pathlib import Path
from typing import Any

import docker
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from containers_support import IMAGE, missing_host_feature

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(missing_host_feature() is not None, reason=str(missing_host_feature())),
]
UNCONFINED = {"security_opt": ["seccomp=unconfined"]}


@pytest.fixture
def client(module_client: docker.DockerClient) -> docker.DockerClient:
    return module_client


def run(client: docker.DockerClient, script: str, **options: Any) -> tuple[int, str]:
    """The exit code and standard output of `sh -c script` in a busybox container without a
    network (a runtime's warnings, on standard error, are left out)."""
    container = client.containers.run(
        IMAGE, ["sh", "-c", script], detach=True, network_mode="none", **options
    )
    try:
        code = container.wait()["StatusCode"]
        return code, container.logs(stdout=True, stderr=False).decode()
    finally:
        container.remove(force=True)


def user_namespaces_allowed() -> bool:
    try:
        return int(Path("/proc/sys/user/max_user_namespaces").read_text()) > 0
    except (OSError, ValueError):
        return False


needs_user_namespaces = pytest.mark.skipif(
    not user_namespaces_allowed(), reason="this kernel allows no user namespaces"
)


def test_a_container_runs_under_a_seccomp_filter_by_default(client: docker.DockerClient) -> None:
    assert run(client, "grep ^Seccomp: /proc/self/status") == (0, "Seccomp:\t2\n")


def test_an_exec_runs_under_the_container_s_seccomp_filter(client: docker.DockerClient) -> None:
    container = client.containers.run(IMAGE, ["sleep", "60"], detach=True, network_mode="none")
    try:
        result = container.exec_run(["grep", "^Seccomp:", "/proc/self/status"])
        assert (result.exit_code, result.output) == (0, b"Seccomp:\t2\n")
    finally:
        container.remove(force=True)


@needs_user_namespaces
def test_the_default_profile_refuses_unshare(client: docker.DockerClient) -> None:
    code, output = run(client, "unshare -U true 2>&1")
    assert code != 0 and "Operation not permitted" in output


@needs_user_namespaces
def test_seccomp_unconfined_allows_unshare(client: docker.DockerClient) -> None:
    assert run(client, "unshare -U true && echo done", **UNCONFINED) == (0, "done\n")
    assert run(client, "grep ^Seccomp: /proc/self/status", **UNCONFINED)[1] == "Seccomp:\t0\n"


def test_privileged_runs_without_a_seccomp_filter_and_with_every_capability(
    client: docker.DockerClient,
) -> None:
    own = next(
        line for line in Path("/proc/self/status").read_text().splitlines()
        if line.startswith("CapBnd:")
    )  # fmt: skip
    code, output = run(client, "grep -e ^Seccomp: -e ^CapEff: /proc/self/status", privileged=True)
    assert code == 0
    assert output.splitlines() == [own.replace("CapBnd", "CapEff"), "Seccomp:\t0"]


def test_privileged_sees_the_host_devices(client: docker.DockerClient) -> None:
    host = sorted(
        path.name for path in Path("/dev").iterdir()
        if stat.S_ISCHR(path.lstat().st_mode) and path.name not in ("console", "ptmx")
    )  # fmt: skip
    code, output = run(client, "find /dev -maxdepth 1 -type c | sort", privileged=True)
    assert code == 0
    inside = [Path(line).name for line in output.split()]
    assert [name for name in host if name not in inside] == []
    assert "kmsg" not in run(client, "ls /dev")[1]


def test_privileged_may_mount(client: docker.DockerClient) -> None:
    script = "mkdir /tmp/m && mount -t tmpfs none /tmp/m && touch /tmp/m/x && echo mounted"
    assert run(client, script, privileged=True) == (0, "mounted\n")
    assert run(client, script)[0] != 0


def test_privileged_has_no_masked_or_read_only_paths_in_proc(client: docker.DockerClient) -> None:
    script = "cut -d' ' -f5 /proc/self/mountinfo | grep ^/proc/ | sort"
    assert run(client, script, privileged=True) == (0, "")
    assert "/proc/sys\n" in run(client, script)[1]


@pytest.mark.skipif(not Path("/dev/loop0").is_block_device(), reason="no /dev/loop0 on this host")
def test_privileged_may_make_and_open_any_device(client: docker.DockerClient) -> None:
    script = "mknod /tmp/loop b 7 0 && blockdev --getsize64 /tmp/loop"
    code, output = run(client, script, privileged=True)
    assert code == 0 and output.strip().isdigit()
    assert run(client, script)[0] != 0


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("ls /bin/busybox", "/bin/busybox\n"),
        ("ps -o pid,comm | grep -c '^ *1 sh$'", "1\n"),
        ("date -u -d @0 +%F", "1970-01-01\n"),
        ("id", "uid=0(root) gid=0(root)\n"),
        (
            "su -s /bin/sh nobody -c id",
            "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n",
        ),
        ('test "$(linux32 uname -m)" != "$(uname -m)" && echo changed', "changed\n"),
        ("ping -c 1 -W 5 127.0.0.1 >/dev/null && echo answered", "answered\n"),
        (
            "mkdir /www && echo hello >/www/index.html && httpd -p 127.0.0.1:8080 -h /www"
            " && wget -q -O - http://127.0.0.1:8080/",
            "hello\n",
        ),
        (
            # the client reads a file, not a pipe: busybox's nc ends at the listener's EOF
            # (its stdin is /dev/null), which could come before `echo hi` filled the pipe
            "echo hi >/tmp/msg; nc -l -p 9000 >/tmp/got & for i in 1 2 3 4 5 6 7 8 9 10; do"
            " nc 127.0.0.1 9000 </tmp/msg && break; sleep 0.2; done; wait; cat /tmp/got",
            "hi\n",
        ),
    ],
    ids=["ls", "ps", "date", "id", "su", "personality", "ping", "httpd-wget", "nc"],
)
def test_common_applets_work_under_the_default_profile(
    client: docker.DockerClient, script: str, expected: str
) -> None:
    assert run(client, script) == (0, expected)


def test_nslookup_s_query_reaches_the_network(client: docker.DockerClient) -> None:
    code, output = run(client, "nslookup localhost 127.0.0.1 2>&1")
    assert code == 1 and "Connection refused" in output  # the kernel's answer, no server


def test_swapon_is_refused_by_the_filter_even_with_sys_admin(client: docker.DockerClient) -> None:
    script = "swapon /etc/passwd 2>&1"
    assert run(client, script, cap_add=["SYS_ADMIN"]) == (
        1, "swapon: /etc/passwd: Operation not permitted\n"
    )  # fmt: skip
    unconfined = run(client, script, cap_add=["SYS_ADMIN"], **UNCONFINED)
    assert unconfined == (1, "swapon: /etc/passwd: Invalid argument\n")  # not swap space


def test_cap_add_sys_admin_gives_mount_and_unshare_back(client: docker.DockerClient) -> None:
    script = "mkdir /tmp/m && mount -t tmpfs none /tmp/m && unshare -m true && echo mounted"
    assert run(client, script, cap_add=["SYS_ADMIN"]) == (0, "mounted\n")


def test_init_runs_docker_init_under_the_filter(client: docker.DockerClient) -> None:
    script = "ps -o pid,comm | grep '^ *1 ' && grep ^Seccomp: /proc/1/status"
    assert run(client, script, init=True) == (0, "    1 docker-init\nSeccomp:\t2\n")
