"""Real containers from a busybox-static rootfs, each with its own --root and unique id."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest

RUNTIME = os.path.join(os.path.dirname(sys.executable), "porter-runtime")
BUSYBOX = shutil.which("busybox") or "/bin/busybox"
APPLETS = (
    "sh",
    "true",
    "false",
    "id",
    "hostname",
    "cat",
    "ls",
    "sleep",
    "echo",
    "grep",
    "ps",
    "touch",
    "mount",
    "wc",
    "head",
    "env",
    "test",
    "readlink",
    "stat",
    "mkdir",
)


def pytest_collection_modifyitems(items):
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def busybox_rootfs(tmp_path_factory):
    if os.geteuid() != 0 or not os.path.exists(BUSYBOX):
        pytest.skip("needs root and busybox-static")
    root = tmp_path_factory.mktemp("busybox") / "rootfs"
    (root / "bin").mkdir(parents=True)
    shutil.copy2(BUSYBOX, root / "bin" / "busybox")
    for applet in APPLETS:
        os.symlink("busybox", root / "bin" / applet)
    for d in ("proc", "sys", "dev", "etc", "tmp"):
        (root / d).mkdir()
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    return root


def run_to_files(argv: list[str], **kw) -> subprocess.CompletedProcess:
    """Run `argv` with its output through files, not pipes: a created container keeps the
    runtime's stdio open, and a pipe would not reach end-of-file until the container exits."""
    import tempfile

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.run(argv, stdout=out, stderr=err, **kw)
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(
            proc.args, proc.returncode, out.read().decode(), err.read().decode()
        )


class Runtime:
    """Runs porter-runtime with this test's --root; remembers ids to clean up. `prefix` runs
    it through another command (which execs it with its arguments)."""

    def __init__(self, root: str, prefix: tuple[str, ...] = ()) -> None:
        self.root = root
        self.prefix = prefix
        self.ids: list[str] = []

    def __call__(
        self, *args: str, check: bool = True, timeout: float = 30, **kw
    ) -> subprocess.CompletedProcess:
        argv = [*self.prefix, RUNTIME, "--root", self.root, *args]
        result = run_to_files(argv, timeout=timeout, **kw)
        if check and result.returncode != 0:
            raise AssertionError(
                f"porter-runtime {' '.join(args)} failed ({result.returncode}): {result.stderr}"
            )
        return result

    def new_id(self) -> str:
        container_id = f"pt-{uuid.uuid4().hex[:10]}"
        self.ids.append(container_id)
        return container_id

    def state(self, container_id: str) -> dict:
        return json.loads(self("state", container_id).stdout)

    def wait_status(self, container_id: str, status: str, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.state(container_id)["status"] == status:
                return
            time.sleep(0.02)
        raise AssertionError(f"{container_id} never became {status}")


@pytest.fixture
def runtime(tmp_path):
    rt = Runtime(str(tmp_path / "state"))
    yield rt
    for container_id in rt.ids:
        rt("delete", "--force", container_id, check=False)


@pytest.fixture
def bundle(tmp_path, busybox_rootfs):
    """A bundle with the default config running `true`; `bundle.write(cfg)` changes it."""
    path = tmp_path / "bundle"
    path.mkdir()
    os.symlink(busybox_rootfs, path / "rootfs")
    from porter_runtime.spec import default_config

    config = default_config()
    config["process"]["terminal"] = False
    config["process"]["args"] = ["true"]
    config["root"]["readonly"] = False
    return Bundle(path, config)


class Bundle:
    def __init__(self, path, config):
        self.path = path
        self.config = config
        self.write()

    def write(self):
        (self.path / "config.json").write_text(json.dumps(self.config))

    def run_args(self, *args: str) -> None:
        self.config["process"]["args"] = list(args)
        self.write()

    def __str__(self) -> str:
        return str(self.path)


def leftovers(container_id: str, root: str, rootfs: str | None = None) -> list[str]:
    """Everything a container could leave behind on the host, described."""
    found = []
    if os.path.exists(os.path.join(root, container_id)):
        found.append(f"state dir {root}/{container_id}")
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat") as f:
                zombie = f.read().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            continue
        if container_id in cmdline and not zombie:
            found.append(f"process {pid}: {cmdline}")
    cgroup_root = "/sys/fs/cgroup"
    for controller in os.listdir(cgroup_root):
        for prefix in ("porter-runtime", ""):
            path = os.path.join(cgroup_root, controller, prefix, container_id)
            if os.path.isdir(path):
                found.append(f"cgroup {path}")
    if rootfs:
        with open("/proc/self/mountinfo") as f:
            found += [f"mount {line.split()[4]}" for line in f if str(rootfs) in line]
    return found


@pytest.fixture(name="leftovers")
def leftovers_fixture():
    """The `leftovers(id, root, rootfs)` check, for tests (conftest is not importable)."""
    return leftovers


@pytest.fixture(name="runtime_binary")
def runtime_binary_fixture():
    return RUNTIME
