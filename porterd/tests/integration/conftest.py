"""Fixtures the integration tests of porterd share."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from containers_support import busybox_client, busybox_rootfs_tar, client_for, porterd_with_busybox
from porterd_process import PorterdProcess


@pytest.fixture(scope="session")
def busybox_rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The busybox demo image's rootfs as a tar, built once for every module that imports it
    into a porterd."""
    return busybox_rootfs_tar(tmp_path_factory.mktemp("busybox"))


@pytest.fixture(scope="module")
def module_client(
    tmp_path_factory: pytest.TempPathFactory, busybox_rootfs: Path
) -> Iterator[docker.DockerClient]:
    """docker-py on a porterd of the module's own, holding the busybox demo image."""
    with busybox_client(tmp_path_factory.mktemp("porterd"), busybox_rootfs) as client:
        yield client


@pytest.fixture(scope="module")
def porterd(
    tmp_path_factory: pytest.TempPathFactory, busybox_rootfs: Path
) -> Iterator[PorterdProcess]:
    """A porterd of the module's own, holding the busybox demo image (a module that needs
    another porterd defines its own `porterd`)."""
    with porterd_with_busybox(tmp_path_factory.mktemp("porterd"), busybox_rootfs) as process:
        yield process


@pytest.fixture
def client(porterd: PorterdProcess) -> Iterator[docker.DockerClient]:
    """docker-py on the module's `porterd`, closed after the test."""
    client = client_for(porterd)
    yield client
    client.close()
