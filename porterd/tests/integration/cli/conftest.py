"""The daemons porter's end-to-end tests run against, each started once per session in a
namespace of its own with a porter-registry holding the busybox demo image: dockerd (Debian's
docker.io; proof that porter speaks the Engine API as docker does) and porterd."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "porter-image" / "tests"))

import cli_daemons
from cli_daemons import Target
from image_test_support import build_busybox


@pytest.fixture(scope="session")
def busybox_layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    layout = tmp_path_factory.mktemp("busybox") / "layout"
    build_busybox(f"{layout}:busybox")
    return layout


@pytest.fixture(scope="session", params=["dockerd", "porterd"])
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, busybox_layout: Path
) -> Iterator[Target]:
    kind = request.param
    reason = (
        cli_daemons.dockerd_unavailable()
        if kind == "dockerd"
        else cli_daemons.porterd_unavailable()
    )
    if reason:
        pytest.skip(reason)
    workdir = tmp_path_factory.mktemp(f"cli-{kind}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "PORTER_"))}
    env["PORTER_CONFIG"] = str(workdir / "porter-config")
    env["DOCKER_CONFIG"] = str(workdir / "docker-config")
    try:
        namespace = cli_daemons.Namespace.create()
    except cli_daemons.Unavailable as error:
        pytest.skip(str(error))
    try:
        certs = cli_daemons.make_certificates(workdir, env)
        port = cli_daemons.free_port(namespace)
        listen = cli_daemons.tls_listener(certs, port)
        with cli_daemons.registry(namespace, workdir, busybox_layout) as registry:
            daemon = (
                cli_daemons.dockerd(namespace, workdir, listen)
                if kind == "dockerd"
                else cli_daemons.porterd(namespace, workdir, registry, listen)
            )
            image = f"{registry}/busybox:latest"
            try:
                with daemon as sock:
                    tcp = f"tcp://127.0.0.1:{port}"
                    yield Target(kind, sock, image, env, namespace, tcp, certs)
            except cli_daemons.Unavailable as error:
                pytest.skip(str(error))
    finally:
        namespace.close()
