"""The image commands of the Debian docker CLI and docker-py against a real porterd (in a
network namespace of the test's own), with a porter-registry started in that namespace."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from porter_image.docker_archive import SavedImage, write_docker_archive
from porter_image.image import load_image
from porter_image.layer.testing import archive, directory, file
from porter_image.layout import Layout
from porter_image.snapshots.testing import layered_image
from porterd_process import PorterdProcess, running_porterd, unavailable

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(unavailable() is not None, reason=str(unavailable())),
]
DOCKER_CLI = Path("/usr/bin/docker")
PORTER_REGISTRY = Path(sys.executable).parent / "porter-registry"
needs_cli = pytest.mark.skipif(not DOCKER_CLI.exists(), reason="Debian's docker CLI is missing")


@pytest.fixture(scope="module")
def porterd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PorterdProcess]:
    with running_porterd(tmp_path_factory.mktemp("porterd-images")) as process:
        yield process


@pytest.fixture(scope="module")
def registry(porterd: PorterdProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`127.0.0.1:PORT` of a porter-registry inside porterd's network namespace."""
    data = tmp_path_factory.mktemp("registry")
    log = data / "registry.log"
    argv = [str(PORTER_REGISTRY), "serve", "--listen", "127.0.0.1:0", "--data", str(data / "d")]
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            porterd.in_namespace(argv), stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 20
        while not (found := re.search(r"https?://(127\.0\.0\.1:\d+)", log.read_text())):
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        yield found.group(1)
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(10)
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def demo_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A `docker save` tar of `demo:v1`, a two-layer image with a whiteout."""
    folder = tmp_path_factory.mktemp("demo")
    layout = Layout.create(folder / "layout")
    layers = [
        archive(directory("etc"), file("etc/motd", b"base\n"), file("etc/gone", b"x")),
        archive(directory("etc"), file("etc/.wh.gone"), file("etc/motd", b"top\n")),
    ]
    layered_image(layout, "v1", layers, {"Cmd": ["sh"], "Labels": {"demo": "yes"}})
    path = folder / "demo.tar"
    with open(path, "wb") as out:
        write_docker_archive(layout, [SavedImage(load_image(layout, "v1"), ("demo:v1",))], out)
    return path


@pytest.fixture(scope="module")
def client(porterd: PorterdProcess) -> Iterator[docker.DockerClient]:
    connection = docker.DockerClient(base_url=porterd.url, version="auto", timeout=60)
    with contextlib.closing(connection):
        yield connection


def _docker(porterd: PorterdProcess, *args: str, stdin: bytes | None = None) -> str:
    result = subprocess.run(
        [str(DOCKER_CLI), "-H", porterd.url, *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout.decode()


@needs_cli
def test_docker_load_then_images_inspect_and_history(porterd, demo_archive: Path) -> None:
    assert "Loaded image: demo:v1" in _docker(porterd, "load", "-i", str(demo_archive))
    listed = _docker(porterd, "images", "--format", "{{.Repository}}:{{.Tag}}")
    assert "demo:v1" in listed.split()
    (inspected,) = json.loads(_docker(porterd, "image", "inspect", "demo:v1"))
    assert inspected["Config"]["Cmd"] == ["sh"] and len(inspected["RootFS"]["Layers"]) == 2
    history = _docker(porterd, "history", "--format", "{{.CreatedBy}}", "demo:v1")
    assert history.split("\n")[:2] == ["layer 1", "layer 0"]


@needs_cli
def test_docker_tag_save_and_rmi(porterd, demo_archive: Path, tmp_path: Path) -> None:
    _docker(porterd, "load", "-i", str(demo_archive))
    _docker(porterd, "tag", "demo:v1", "demo:copy")
    saved = tmp_path / "copy.tar"
    _docker(porterd, "save", "-o", str(saved), "demo:copy")
    assert saved.stat().st_size > 0
    removed = _docker(porterd, "rmi", "demo:copy")
    assert "Untagged: demo:copy" in removed
    assert "demo:copy" not in _docker(porterd, "images", "--format", "{{.Repository}}:{{.Tag}}")


@needs_cli
def test_docker_import_makes_an_image_from_a_tar(porterd) -> None:
    rootfs = archive(file("hello", b"hi\n"))
    out = _docker(porterd, "import", "--change", 'CMD ["/hello"]', "-", "imported:v1", stdin=rootfs)
    assert out.strip().startswith("sha256:")
    (inspected,) = json.loads(_docker(porterd, "image", "inspect", "imported:v1"))
    assert inspected["Config"]["Cmd"] == ["/hello"]


@needs_cli
def test_docker_rmi_of_an_unknown_image_fails_with_dockers_message(porterd) -> None:
    result = subprocess.run(
        [str(DOCKER_CLI), "-H", porterd.url, "rmi", "nothing-here"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "No such image: nothing-here" in result.stderr


def test_docker_py_pushes_and_pulls_through_the_registry(
    client: docker.DockerClient, demo_archive: Path, registry: str
) -> None:
    client.images.load(demo_archive.read_bytes())
    client.images.get("demo:v1").tag(f"{registry}/demo/app", "v1")
    pushed = list(client.images.push(f"{registry}/demo/app", "v1", stream=True, decode=True))
    assert any("aux" in line for line in pushed), pushed
    client.images.remove(f"{registry}/demo/app:v1")
    pulled = client.images.pull(f"{registry}/demo/app", tag="v1")
    assert pulled.id == client.images.get("demo:v1").id
    assert any(d.startswith(f"{registry}/demo/app@sha256:") for d in pulled.attrs["RepoDigests"])


@needs_cli
def test_docker_pull_shows_progress_and_the_digest(porterd, demo_archive: Path, registry) -> None:
    _docker(porterd, "load", "-i", str(demo_archive))
    _docker(porterd, "tag", "demo:v1", f"{registry}/cli/app:v1")
    _docker(porterd, "push", f"{registry}/cli/app:v1")
    _docker(porterd, "rmi", f"{registry}/cli/app:v1")
    out = _docker(porterd, "pull", f"{registry}/cli/app:v1")
    assert "Digest: sha256:" in out and f"{registry}/cli/app:v1" in out


def test_docker_py_prune_removes_dangling_images(client: docker.DockerClient) -> None:
    answer = client.api.import_image_from_data(archive(file("only", b"dangling")))
    image_id = json.loads(answer)["status"]
    report = client.images.prune()
    assert {"Deleted": image_id} in report["ImagesDeleted"]
    assert report["SpaceReclaimed"] > 0
