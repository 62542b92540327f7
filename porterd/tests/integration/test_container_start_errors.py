"""A client's mistake at container start (a command that is not there, a file that cannot be
run, a working directory that is a file) is a 400 with one line, and the docker CLI and porter
exit as they do against dockerd (127, 126, 125); `docker exec` of a missing command exits 127."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from containers_support import (
    IMAGE,
    VENV_BIN,
    client_for,
    docker_cli,
    missing_host_feature,
    porterd_with_busybox,
)
from porterd_process import PorterdProcess

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(missing_host_feature() is not None, reason=str(missing_host_feature())),
]

# case: (the container's working directory, its command, the exit code of docker run)
CASES = {
    "missing command": ("", ["nosuchcmd"], 127),
    "file that is not executable": ("", ["/etc/passwd"], 126),
    "working directory that is a file": ("/etc/passwd", ["true"], 125),
}


@pytest.fixture(scope="module")
def porterd(
    tmp_path_factory: pytest.TempPathFactory, busybox_rootfs: Path
) -> Iterator[PorterdProcess]:
    with porterd_with_busybox(tmp_path_factory.mktemp("starterr"), busybox_rootfs) as process:
        yield process


def _run_args(case: str) -> list[str]:
    workdir, command, _ = CASES[case]
    name = f"starterr-{uuid.uuid4().hex[:8]}"
    return [
        "run", "--rm", "--network", "none", "--name", name,
        *(["-w", workdir] if workdir else []), IMAGE, *command,
    ]  # fmt: skip


def _daemon_lines(stderr: str) -> list[str]:
    """What the CLI printed of the daemon's answer (the docker CLI also logs its own
    `error waiting for container: context canceled`, with a time= prefix)."""
    return [line for line in stderr.splitlines() if line and not line.startswith("time=")]


@pytest.mark.parametrize("case", list(CASES))
def test_the_api_answers_a_refused_start_with_400(porterd: PorterdProcess, case: str) -> None:
    workdir, command, _ = CASES[case]
    client = client_for(porterd)
    container = client.containers.create(
        IMAGE, command, working_dir=workdir or None, network_mode="none"
    )
    try:
        with pytest.raises(docker.errors.APIError) as raised:
            container.start()
        assert raised.value.status_code == 400
        assert "\n" not in raised.value.explanation
    finally:
        container.remove(force=True)
        client.close()


@pytest.mark.parametrize("case", list(CASES))
def test_docker_run_exits_as_against_dockerd_with_one_line(
    porterd: PorterdProcess, case: str
) -> None:
    result = docker_cli(porterd, *_run_args(case))
    assert result.returncode == CASES[case][2], result.stderr
    assert len(_daemon_lines(result.stderr)) == 1, result.stderr


@pytest.mark.parametrize("case", list(CASES))
def test_porter_run_exits_as_docker_does(porterd: PorterdProcess, case: str) -> None:
    result = subprocess.run(
        [str(VENV_BIN / "porter"), "-H", porterd.url, *_run_args(case)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == CASES[case][2], result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_docker_exec_of_a_missing_command_exits_127(porterd: PorterdProcess) -> None:
    name = f"starterr-{uuid.uuid4().hex[:8]}"
    started = docker_cli(
        porterd, "run", "-d", "--network", "none", "--name", name, IMAGE, "sleep", "60"
    )
    assert started.returncode == 0, started.stderr
    try:
        result = docker_cli(porterd, "exec", name, "nosuchcmd")
        assert result.returncode == 127, result.stderr
        assert "executable file not found" in result.stdout + result.stderr
    finally:
        docker_cli(porterd, "rm", "--force", name)
