"""The README's main job, `bash scripts/demo.sh`: the everyday flow from set-up to clean-up.

The demo runs once for the module (it sets the machine up, starts a registry and porterd in a
namespace of its own and runs two containers); each test checks one thing it promises.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUSYBOX = Path("/bin/busybox")  # scripts/make-busybox-image.sh builds the image from it
IMAGE = "127.0.0.1:5000/busybox"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="porterd and its namespace need root"),
    pytest.mark.skipif(not BUSYBOX.exists(), reason=f"busybox-static is not installed ({BUSYBOX})"),
    pytest.mark.skipif(
        any(shutil.which(tool) is None for tool in ("unshare", "nsenter", "ip", "conmon")),
        reason="unshare, nsenter, ip and conmon are needed",
    ),
]


@dataclass
class Demo:
    folder: Path
    result: subprocess.CompletedProcess[str]

    @property
    def output(self) -> str:
        return self.result.stdout

    def section(self, title: str) -> str:
        """The output of the step whose heading starts with `title`, up to the next one."""
        parts = re.split(r"^==> ", self.output, flags=re.MULTILINE)
        for part in parts:
            if part.startswith(title):
                return part
        raise AssertionError(f"no step {title!r} in the demo's output:\n{self.output}")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    folder = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTER_", "DOCKER_"))}
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "demo.sh")],
        env={**env, "DEMO_DIR": str(folder)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
        check=False,
    )
    return Demo(folder, result)


def test_demo_succeeds(demo: Demo) -> None:
    assert demo.result.returncode == 0, demo.output[-4000:]


def test_demo_image_is_built_and_valid(demo: Demo) -> None:
    assert f"{demo.folder}/layout:busybox: ok" in demo.output


def test_demo_image_is_pushed_to_the_registry(demo: Demo) -> None:
    assert f"Copied docker://{IMAGE}:latest: sha256:" in demo.section("porter-registry")


def test_porter_run_pulls_the_missing_image_first(demo: Demo) -> None:
    run = demo.section("porter run:")
    assert f"Unable to find image '{IMAGE}' locally" in run
    assert f"Status: Downloaded newer image for {IMAGE}:latest" in run


def test_porter_run_container_has_its_hostname_and_a_bridge_address(demo: Demo) -> None:
    run = demo.section("porter run:")
    assert re.search(
        r"^hello from busybox, pid 1, host porter-demo, address 172\.17\.\d+\.\d+/16$",
        run,
        re.MULTILINE,
    ), run


def test_porter_ps_a_lists_the_exited_and_the_running_container(demo: Demo) -> None:
    rows = demo.section("porter ps -a").splitlines()
    hello = next(row for row in rows if row.endswith("porter-demo-hello"))
    sleeper = next(row for row in rows if row.endswith("porter-demo-sleeper"))
    assert "Exited (0)" in hello and IMAGE in hello
    assert re.search(r"\bUp\b", sleeper) and '"sleep 3600"' in sleeper


def test_porter_logs_keep_the_exited_containers_output(demo: Demo) -> None:
    assert "hello from busybox, pid 1, host porter-demo" in demo.section("porter logs")


def test_porter_exec_runs_beside_the_containers_process(demo: Demo) -> None:
    processes = demo.section("porter exec").splitlines()
    assert any(re.fullmatch(r"\s*1 root\s+sleep 3600", line) for line in processes), processes
    assert any(re.fullmatch(r"\s*\d+ root\s+ps", line) for line in processes), processes


def test_demo_tells_a_person_how_to_run_a_shell(demo: Demo) -> None:
    assert "porter run -it localhost:5000/busybox sh" in demo.output


def test_demo_cleans_up_every_step(demo: Demo) -> None:
    cleanup = demo.section("cleaning up")
    for done in (
        "containers removed",
        "porterd stopped",
        "porter-registry stopped",
        "network and mount namespace removed",
    ):
        assert done in cleanup


def test_demo_leaves_no_process_or_mount_behind(demo: Demo) -> None:
    folder = str(demo.folder)
    mounts = Path("/proc/self/mountinfo").read_text()
    assert folder not in mounts
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            assert folder not in cmdline, f"pid {proc.name} is left: {cmdline!r}"
