"""porterd's registry flags end to end: `--registry-mirror` serves Docker Hub names from a
porter-registry in porterd's own network namespace, and `/info` reports both flags."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from porterd_process import PorterdProcess, running_porterd, unavailable

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(unavailable() is not None, reason=str(unavailable())),
]
PORT = 25000  # on the loopback of porterd's own namespace: nothing else listens there
MIRROR = f"http://127.0.0.1:{PORT}"


def _tiny_rootfs() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        data = b"from the mirror\n"
        info = tarfile.TarInfo("hello.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def porterd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PorterdProcess]:
    workdir = tmp_path_factory.mktemp("mirror")
    flags = ("--registry-mirror", MIRROR, "--insecure-registry", "registry.test:5000")
    with running_porterd(workdir, *flags) as process:
        registry = subprocess.Popen(
            process.in_namespace(
                [str(Path(sys.executable).parent / "porter-registry"), "serve",
                 "--listen", f"127.0.0.1:{PORT}", "--data", str(workdir / "registry")]
            ),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            _wait_for_registry(process)
            yield process
        finally:
            registry.terminate()
            registry.wait(30)


def _wait_for_registry(process: PorterdProcess) -> None:
    probe = process.in_namespace(["curl", "-sf", "-o", "/dev/null", f"{MIRROR}/v2/"])
    deadline = time.monotonic() + 60
    while subprocess.run(probe, check=False, timeout=30).returncode != 0:
        assert time.monotonic() < deadline, "porter-registry did not start"
        time.sleep(0.1)


def test_info_reports_the_mirror_and_the_insecure_registry(porterd: PorterdProcess) -> None:
    registry_config = docker.DockerClient(base_url=porterd.url).info()["RegistryConfig"]
    assert registry_config["Mirrors"] == [MIRROR]
    assert registry_config["IndexConfigs"]["docker.io"]["Mirrors"] == [MIRROR]
    assert registry_config["IndexConfigs"]["registry.test:5000"]["Secure"] is False


def test_a_docker_hub_name_is_pulled_from_the_mirror(porterd: PorterdProcess) -> None:
    client = docker.DockerClient(base_url=porterd.url, timeout=120)
    mirrored = f"127.0.0.1:{PORT}/library/tiny"
    client.api.import_image_from_data(_tiny_rootfs(), repository=mirrored, tag="v1")
    pushed = list(client.api.push(mirrored, tag="v1", stream=True, decode=True))
    assert not [line for line in pushed if "error" in line], pushed
    client.images.remove(f"{mirrored}:v1")
    # The namespace has no route out: docker.io itself is unreachable, only the mirror answers.
    image = client.images.pull("tiny", tag="v1")
    assert "tiny:v1" in image.tags
