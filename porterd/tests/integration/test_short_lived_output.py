"""The output of a process that ends within milliseconds reaches the client whole, with its
exit code, while busy processes load the CPUs: `docker run --rm` (attached before the start,
with and without a terminal), `docker exec`, and `docker logs` right after `docker wait`.
Each is a loop of short runs, since under load the output was lost in some of them only."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import containers_support as support
from porterd_process import PorterdProcess


def _missing() -> str | None:
    if not support.DOCKER_CLI.exists():
        return "Debian's docker CLI (docker.io) is not installed"
    return support.missing_host_feature()


pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(_missing() is not None, reason=str(_missing())),
]
RUNS = 30
BUSY_PROCESSES = 3
SCRIPT = "echo out; echo err >&2; exit 3"


@pytest.fixture(scope="module")
def porterd(
    tmp_path_factory: pytest.TempPathFactory, busybox_rootfs: Path
) -> Iterator[PorterdProcess]:
    with support.porterd_with_busybox(
        tmp_path_factory.mktemp("porterd"), busybox_rootfs
    ) as process:
        yield process


@contextlib.contextmanager
def cpus_busy() -> Iterator[None]:
    """A few processes spinning beside the test, killed afterwards even on failure."""
    spinners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(BUSY_PROCESSES)
    ]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def results(runs: Iterator[subprocess.CompletedProcess[str]]) -> list[tuple[int, str, str]]:
    return [(result.returncode, result.stdout, result.stderr) for result in runs]


def differing(seen: list[tuple], expected: tuple) -> list[tuple[int, tuple]]:
    """The runs (by number) whose exit code and output were not the expected ones."""
    return [(run, result) for run, result in enumerate(seen) if result != expected]


def test_docker_run_rm_prints_all_output_of_a_short_process_under_load(
    porterd: PorterdProcess,
) -> None:
    command = ["run", "--rm", "--network", "none", support.IMAGE, "sh", "-c", SCRIPT]
    with cpus_busy():
        seen = results(support.docker_cli(porterd, *command) for _ in range(RUNS))
    assert differing(seen, (3, "out\n", "err\n")) == []


def test_docker_run_rm_with_a_terminal_prints_all_output_of_a_short_process_under_load(
    porterd: PorterdProcess,
) -> None:
    command = ["run", "-t", "--rm", "--network", "none", support.IMAGE, "sh", "-c", SCRIPT]
    with cpus_busy():
        seen = results(support.docker_cli(porterd, *command) for _ in range(RUNS))
    # one terminal carries both streams, in the order they were written
    seen = [(code, out.replace("\r\n", "\n"), err) for code, out, err in seen]
    assert differing(seen, (3, "out\nerr\n", "")) == []


def test_docker_exec_prints_all_output_of_a_short_process_under_load(
    porterd: PorterdProcess,
) -> None:
    wanted = f"short-exec-{uuid.uuid4().hex[:8]}"
    started = support.docker_cli(
        porterd, "run", "-d", "--name", wanted, "--network", "none", support.IMAGE, "sleep", "600"
    )
    assert started.returncode == 0, started.stderr
    try:
        with cpus_busy():
            seen = results(
                support.docker_cli(porterd, "exec", wanted, "sh", "-c", SCRIPT) for _ in range(RUNS)
            )
    finally:
        support.docker_cli(porterd, "rm", "-f", wanted)
    assert differing(seen, (3, "out\n", "err\n")) == []


def test_docker_logs_right_after_docker_wait_has_all_output_under_load(
    porterd: PorterdProcess,
) -> None:
    prefix = f"short-logs-{uuid.uuid4().hex[:8]}"
    seen = []
    with cpus_busy():
        for run in range(RUNS):
            wanted = f"{prefix}-{run}"
            try:
                support.docker_cli(
                    porterd, "run", "-d", "--name", wanted, "--network", "none", support.IMAGE,
                    "sh", "-c", SCRIPT,
                )  # fmt: skip
                code = support.docker_cli(porterd, "wait", wanted).stdout
                logs = support.docker_cli(porterd, "logs", wanted)
                seen.append((code, logs.stdout, logs.stderr))
            finally:
                support.docker_cli(porterd, "rm", "-f", wanted)
    assert differing(seen, ("3\n", "out\n", "err\n")) == []
