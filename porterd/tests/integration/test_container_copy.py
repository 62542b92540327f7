"""`docker cp` through a container's volumes and bind mounts, as dockerd resolves it: the
archive endpoints of a real porterd driven by docker-py see each mount where the container
sees it, running or stopped."""

from __future__ import annotations

import io
import sys
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from docker.models.containers import Container

sys.path.insert(0, str(Path(__file__).resolve().parent))
from containers_support import IMAGE, missing_host_feature

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(missing_host_feature() is not None, reason=str(missing_host_feature())),
]


@pytest.fixture
def client(module_client: docker.DockerClient) -> docker.DockerClient:
    return module_client


@pytest.fixture
def volume(client: docker.DockerClient) -> Iterator[str]:
    name = f"cp-{uuid.uuid4().hex[:8]}"
    client.volumes.create(name)
    yield name
    client.volumes.get(name).remove(force=True)


@pytest.fixture
def container(client: docker.DockerClient, volume: str, tmp_path: Path) -> Iterator[Container]:
    """A running container with `volume` on /data and `tmp_path` bound on /host."""
    (tmp_path / "from-host.txt").write_text("host file\n")
    mounts = {
        volume: {"bind": "/data", "mode": "rw"},
        str(tmp_path): {"bind": "/host", "mode": "ro"},
    }
    created = client.containers.run(
        IMAGE, ["sleep", "60"], detach=True, network_mode="none", volumes=mounts
    )
    yield created
    created.remove(force=True)


def archive_of(name: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        entry = tarfile.TarInfo(name)
        entry.size = len(content)
        tar.addfile(entry, io.BytesIO(content))
    return buffer.getvalue()


def file_from(container: Container, path: str) -> bytes:
    stream, _ = container.get_archive(path)
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        member = tar.extractfile(Path(path).name)
        assert member is not None
        return member.read()


def test_a_copy_into_a_volume_path_lands_in_the_volume(
    client: docker.DockerClient, container: Container, volume: str
) -> None:
    assert container.put_archive("/data", archive_of("copied.txt", b"into the volume\n"))
    reader = client.containers.run(
        IMAGE, ["cat", "/data/copied.txt"], detach=True, network_mode="none",
        volumes={volume: {"bind": "/data", "mode": "ro"}},
    )  # fmt: skip
    try:
        assert reader.wait()["StatusCode"] == 0
        assert reader.logs() == b"into the volume\n"
    finally:
        reader.remove(force=True)


def test_a_copy_out_of_a_bind_mount_reads_the_host_file(container: Container) -> None:
    assert file_from(container, "/host/from-host.txt") == b"host file\n"


def test_the_stat_of_a_volume_path_is_the_volume_s(container: Container) -> None:
    container.exec_run(["sh", "-c", "echo inside > /data/made.txt"])
    stat = container.get_archive("/data/made.txt")[1]
    assert (stat["name"], stat["size"]) == ("made.txt", len(b"inside\n"))


def test_a_copy_into_a_read_only_bind_mount_is_refused(container: Container) -> None:
    with pytest.raises(docker.errors.APIError, match="Read-only file system"):
        container.put_archive("/host", archive_of("refused.txt", b"no\n"))


def test_a_stopped_container_s_volume_is_seen_by_cp(container: Container) -> None:
    container.exec_run(["sh", "-c", "echo kept > /data/kept.txt"])
    container.stop(timeout=0)
    assert file_from(container, "/data/kept.txt") == b"kept\n"
    assert container.put_archive("/data", archive_of("late.txt", b"late\n"))
    container.start()
    assert container.exec_run(["cat", "/data/late.txt"]).output == b"late\n"


def test_a_missing_path_in_a_volume_is_not_found(container: Container) -> None:
    with pytest.raises(docker.errors.NotFound):
        container.get_archive("/data/absent.txt")


@pytest.fixture
def read_only(client: docker.DockerClient, volume: str) -> Iterator[Container]:
    """A running container with a read-only rootfs and `volume` writable on /data."""
    created = client.containers.run(
        IMAGE, ["sleep", "60"], detach=True, network_mode="none", read_only=True,
        volumes={volume: {"bind": "/data", "mode": "rw"}},
    )  # fmt: skip
    yield created
    created.remove(force=True)


def test_a_read_only_rootfs_takes_a_copy_into_its_writable_volume(read_only: Container) -> None:
    assert read_only.put_archive("/data", archive_of("in-volume.txt", b"volume\n"))
    assert read_only.exec_run(["cat", "/data/in-volume.txt"]).output == b"volume\n"


def test_a_read_only_rootfs_refuses_a_copy_outside_its_volumes(read_only: Container) -> None:
    with pytest.raises(docker.errors.APIError, match="Read-only file system"):
        read_only.put_archive("/tmp", archive_of("outside.txt", b"no\n"))
    assert read_only.exec_run(["ls", "/tmp/outside.txt"]).exit_code != 0


def test_a_read_only_rootfs_without_volumes_refuses_a_copy_as_forbidden(
    client: docker.DockerClient,
) -> None:
    sealed = client.containers.run(
        IMAGE, ["sleep", "60"], detach=True, network_mode="none", read_only=True
    )
    try:
        with pytest.raises(docker.errors.APIError) as refused:
            sealed.put_archive("/tmp", archive_of("refused.txt", b"no\n"))
        assert refused.value.status_code == 403
    finally:
        sealed.remove(force=True)
