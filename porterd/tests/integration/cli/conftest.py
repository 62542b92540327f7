"""The daemons porter's end-to-end tests run against, each started once per session in a
namespace of its own with a porter-registry holding the busybox demo image: dockerd (Debian's
docker.io; proof that porter speaks the Engine API as docker does) and porterd."""

from __future__ import annotations

import contextlib
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
    if not Path(os.environ.get("BUSYBOX", "/bin/busybox")).exists():
        pytest.skip("busybox-static is not installed (the demo image is built from it)")
    layout = tmp_path_factory.mktemp("busybox") / "layout"
    build_busybox(f"{layout}:busybox")
    return layout


def start(
    stack: contextlib.ExitStack, kind: str, workdir: Path, env: dict[str, str], layout: Path
) -> Target:
    """The namespace, registry and daemon of one target, each stopped by `stack`."""
    namespace = cli_daemons.Namespace.create()
    stack.callback(namespace.close)
    certs = cli_daemons.make_certificates(workdir, env)
    port = cli_daemons.free_port(namespace)
    listen = cli_daemons.tls_listener(certs, port)
    registry = stack.enter_context(cli_daemons.registry(namespace, workdir, layout))
    daemon = (
        cli_daemons.dockerd(namespace, workdir, listen)
        if kind == "dockerd"
        else cli_daemons.porterd(namespace, workdir, registry, listen)
    )
    sock = stack.enter_context(daemon)
    image = f"{registry}/busybox:latest"
    return Target(kind, sock, image, env, namespace, f"tcp://127.0.0.1:{port}", certs)


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
    with contextlib.ExitStack() as stack:
        try:
            running = start(stack, kind, workdir, env, busybox_layout)
        except cli_daemons.Unavailable as error:
            pytest.skip(str(error))
        yield running
