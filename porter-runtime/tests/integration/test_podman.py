"""podman drives porter-runtime as its OCI runtime: run, exec, stop, rm, with and without
a terminal. podman's storage lives in this session's temporary directory."""

import subprocess
import tarfile
import uuid

import pytest
from host_features import missing_program, skip_unless

ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]


@pytest.fixture(scope="module")
def podman(tmp_path_factory, busybox_rootfs):
    skip_unless(missing_program("podman"))
    import os
    import sys

    base = tmp_path_factory.mktemp("podman")
    runtime = os.path.join(os.path.dirname(sys.executable), "porter-runtime")
    command = [
        "podman",
        "--root",
        str(base / "storage"),
        "--runroot",
        str(base / "run"),
        "--tmpdir",
        str(base / "tmp"),
        "--runtime",
        runtime,
        "--cgroup-manager=cgroupfs",
        "--events-backend=file",
        "--storage-driver=vfs",
    ]
    tarball = base / "rootfs.tar"
    with tarfile.open(tarball, "w") as tar:
        tar.add(busybox_rootfs, arcname=".")
    image = f"localhost/porter-busybox:{uuid.uuid4().hex[:8]}"

    def run(*args, timeout=90, check=True):
        result = subprocess.run(
            [*command, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)}: {result.returncode} {result.stderr}")
        return result

    run("import", str(tarball), image)
    run.image = image
    yield run
    run("rm", "--all", "--force", check=False)
    run("rmi", "--all", "--force", check=False)


def test_podman_run_without_a_terminal(podman):
    result = podman(
        "run",
        "--rm",
        "--network",
        "none",
        *ULIMITS,
        podman.image,
        "sh",
        "-c",
        "echo hello; exit 4",
        check=False,
    )
    assert result.returncode == 4 and result.stdout == "hello\n"


def test_podman_run_with_a_terminal(podman):
    result = podman(
        "run", "--rm", "-t", "--network", "none", *ULIMITS, podman.image, "sh", "-c", "tty"
    )
    assert "/dev/pts/0" in result.stdout


def test_podman_create_start_exec_stop_rm(podman):
    name = f"pt-{uuid.uuid4().hex[:8]}"
    podman("create", "--name", name, "--network", "none", *ULIMITS, podman.image, "sleep", "300")
    podman("start", name)
    assert "exec-ok" in podman("exec", name, "echo", "exec-ok").stdout
    assert "/dev/pts/" in podman("exec", "-t", name, "sh", "-c", "tty").stdout
    inspect = podman("inspect", "--format", "{{.State.Status}}", name).stdout.strip()
    assert inspect == "running"
    podman("stop", "-t", "1", name)
    assert podman("inspect", "--format", "{{.State.Status}}", name).stdout.strip() == "exited"
    podman("rm", name)
    assert name not in podman("ps", "-a", "--format", "{{.Names}}").stdout
