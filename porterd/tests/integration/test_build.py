"""`POST /build` end to end on a real porterd (in a network namespace of the test's own) that
holds the busybox demo image: `porter build`, the Debian docker CLI's legacy builder
(DOCKER_BUILDKIT=0) and docker-py's `images.build` each build an image with COPY and RUN, and
a container of it prints what the build put there."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import docker
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from containers_support import (
    DOCKER_CLI,
    VENV_BIN,
    docker_cli,
    needs_containers,
    needs_docker_cli,
)
from porterd_process import PorterdProcess

pytestmark = [pytest.mark.integration, needs_containers]
REF_NAME = "org.opencontainers.image.ref.name"
DOCKERFILE = """\
FROM busybox
COPY greeting /greeting
RUN echo "built by $(cat /greeting)" > /built
CMD ["cat", "/built"]
"""


def context(folder: Path, who: str, dockerfile: str = DOCKERFILE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Dockerfile").write_text(dockerfile)
    (folder / "greeting").write_text(who + "\n")
    return folder


def tag(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}:1"


def porter(porterd: PorterdProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "porter"), "-H", porterd.url, *args],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip


def legacy_docker_build(porterd: PorterdProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DOCKER_CLI), "-H", porterd.url, "build", *args],
        capture_output=True, text=True, check=False, timeout=300,
        env={**os.environ, "DOCKER_BUILDKIT": "0"},
    )  # fmt: skip


def test_porter_build_then_run_prints_what_the_build_made(porterd, tmp_path) -> None:
    name = tag("porter-build")
    built = porter(porterd, "build", "-t", name, str(context(tmp_path / "ctx", "porter")))
    assert built.returncode == 0, built.stderr
    assert f"Successfully tagged {name}" in built.stdout
    ran = porter(porterd, "run", "--rm", "--network", "none", name)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "built by porter\n"


@needs_docker_cli
def test_docker_legacy_build_then_run_prints_what_the_build_made(porterd, tmp_path) -> None:
    name = tag("docker-build")
    built = legacy_docker_build(porterd, "-t", name, str(context(tmp_path / "ctx", "docker")))
    assert built.returncode == 0, built.stderr
    container = f"docker-build-{uuid.uuid4().hex[:8]}"
    try:
        ran = docker_cli(porterd, "run", "--name", container, "--network", "none", name)
    finally:
        docker_cli(porterd, "rm", "-f", container)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "built by docker\n"


@needs_docker_cli
def test_docker_quiet_build_prints_the_image_id(porterd, client, tmp_path) -> None:
    name = tag("docker-quiet")
    built = legacy_docker_build(porterd, "-q", "-t", name, str(context(tmp_path / "c", "q")))
    assert built.returncode == 0, built.stderr
    assert built.stdout.strip() == client.images.get(name).id


@needs_docker_cli
def test_docker_build_of_a_bad_dockerfile_fails_with_the_reason(porterd, tmp_path) -> None:
    folder = context(tmp_path / "ctx", "bad", "FROM busybox\nFROBNICATE now\n")
    built = legacy_docker_build(porterd, "-t", tag("docker-bad"), str(folder))
    assert built.returncode == 1
    assert "Dockerfile:2" in built.stderr and "FROBNICATE" in built.stderr


def test_docker_py_build_then_run_prints_what_the_build_made(client, tmp_path) -> None:
    name = tag("docker-py-build")
    image, _ = client.images.build(path=str(context(tmp_path / "ctx", "docker-py")), tag=name)
    assert name in image.tags
    output = client.containers.run(name, remove=True, network_mode="none")
    assert output == b"built by docker-py\n"


def test_a_second_build_takes_its_steps_from_the_cache(client, tmp_path) -> None:
    folder = context(tmp_path / "ctx", "cache")
    first, _ = client.images.build(path=str(folder), tag=tag("cached"))
    second, logs = client.images.build(path=str(folder), tag=tag("cached"))
    assert second.id == first.id
    assert any("CACHED" in entry.get("stream", "") for entry in logs)


def test_a_bad_dockerfile_is_one_error_line_and_exit_1(porterd, tmp_path) -> None:
    folder = context(tmp_path / "ctx", "bad", "FROM busybox\nFROBNICATE now\n")
    built = porter(porterd, "build", "-t", tag("bad"), str(folder))
    assert built.returncode == 1
    (line,) = built.stderr.strip().splitlines()
    assert "Dockerfile:2" in line and "FROBNICATE" in line


def test_a_failing_run_exits_non_zero_and_leaves_no_tag(porterd, client, tmp_path) -> None:
    name = tag("failing")
    folder = context(tmp_path / "ctx", "x", "FROM busybox\nRUN echo about to fail; exit 3\n")
    built = porter(porterd, "build", "-t", name, str(folder))
    assert built.returncode == 1
    assert "about to fail" in built.stdout  # the RUN's output, streamed
    assert "status 3" in built.stderr.strip().splitlines()[-1]
    with pytest.raises(docker.errors.ImageNotFound):
        client.images.get(name)
    index = porterd.workdir / "data" / "image" / "layout" / "index.json"
    manifests = json.loads(index.read_text())["manifests"]
    names = [m.get("annotations", {}).get(REF_NAME, "") for m in manifests]
    assert not [n for n in names if n.startswith("porterd-incoming-")]


def test_prune_empties_the_build_cache(client, tmp_path) -> None:
    client.images.build(path=str(context(tmp_path / "ctx", "prune")), tag=tag("prune"))
    result = client.api.prune_builds()
    assert result["SpaceReclaimed"] > 0


def test_a_client_gone_mid_run_leaves_no_tag_context_or_mount(porterd, client, tmp_path) -> None:
    name = tag("interrupted")
    dockerfile = "FROM busybox\nRUN echo started; sleep 2\nRUN echo never\n"
    folder = context(tmp_path / "ctx", "x", dockerfile)
    build = subprocess.Popen(
        [str(VENV_BIN / "porter"), "-H", porterd.url, "build", "-t", name, str(folder)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        for line in build.stdout:  # type: ignore[union-attr]
            if "started" in line:
                break
        build.send_signal(signal.SIGINT)
        assert build.wait(timeout=30) != 0
    finally:
        build.kill()
        build.wait()
    data = porterd.workdir / "data" / "image"
    deadline = time.monotonic() + 30
    while any((data / "build").iterdir()) or mounts_below(data):
        assert time.monotonic() < deadline, "the build was not cleaned up"
        time.sleep(0.2)
    with pytest.raises(docker.errors.ImageNotFound):
        client.images.get(name)


def mounts_below(folder: Path) -> list[str]:
    with open("/proc/self/mountinfo") as mountinfo:
        return [line.split()[4] for line in mountinfo if f" {folder}/" in line]


def test_the_build_stream_has_each_runs_output_before_the_next_step(client, tmp_path) -> None:
    """RUN output without a final newline, then another step: the stream (as docker-py and
    the docker CLI read it) is one JSON object a line, in the order the build made them."""
    dockerfile = "FROM busybox\nRUN printf 'one\\ntwo'\nRUN printf three\nCMD [\"true\"]\n"
    folder = context(tmp_path / "ctx", "order", dockerfile)
    tar = subprocess.run(["tar", "-C", str(folder), "-c", "."], capture_output=True, check=True)
    response = client.api.post(
        f"{client.api.base_url}/v1.43/build",
        params={"t": tag("ordered")},
        data=tar.stdout,
        headers={"Content-Type": "application/x-tar"},
        stream=True,
    )
    objects = [json.loads(line) for line in response.iter_lines()]
    streamed = [entry["stream"] for entry in objects if "stream" in entry]
    assert streamed[: streamed.index("Dockerfile:4: CMD\n") + 1] == [
        "[stage 0] FROM busybox\n",
        "Dockerfile:2: RUN\n",
        "one\n",
        "two\n",
        "Dockerfile:3: RUN\n",
        "three\n",
        "Dockerfile:4: CMD\n",
    ]
