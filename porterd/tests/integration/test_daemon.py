"""porterd end to end: started for real in a network namespace, driven over its socket by
docker-py and the Debian docker CLI, stopped by signals; a second porterd on the same data
root refused; TCP with mutual TLS."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from porterd_process import PorterdProcess, porterd_argv, running_porterd, unavailable

sys.path.append(str(Path(__file__).resolve().parents[3] / "porter-image" / "tests"))
from tls_support import Authority

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(unavailable() is not None, reason=str(unavailable())),
]
DOCKER_CLI = Path("/usr/bin/docker")


@pytest.fixture(scope="module")
def porterd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PorterdProcess]:
    with running_porterd(tmp_path_factory.mktemp("porterd")) as process:
        yield process


@pytest.fixture
def client(porterd: PorterdProcess) -> Iterator[docker.DockerClient]:
    client = docker.DockerClient(base_url=porterd.url, version="auto", timeout=30)
    yield client
    client.close()


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_docker_py_pings_and_negotiates_the_api_version(client: docker.DockerClient) -> None:
    assert client.ping() is True
    assert client.api.api_version == "1.43"


def test_docker_py_reads_version_and_info(client: docker.DockerClient, porterd) -> None:
    version = client.version()
    assert version["ApiVersion"] == "1.43" and version["MinAPIVersion"] == "1.24"
    info = client.info()
    assert info["DockerRootDir"] == str(porterd.workdir / "data")
    assert info["OSType"] == "linux"
    assert "porter-runtime" in info["Runtimes"]


def test_docker_py_volume_life_cycle(client: docker.DockerClient) -> None:
    name = _name("vol")
    volume = client.volumes.create(name, labels={"purpose": "test"})
    assert volume.attrs["Driver"] == "local"
    assert client.volumes.get(name).attrs["Labels"] == {"purpose": "test"}
    assert name in [v.name for v in client.volumes.list(filters={"label": "purpose=test"})]
    volume.remove()
    with pytest.raises(docker.errors.NotFound):
        client.volumes.get(name)


def test_docker_py_streams_events_as_they_happen(client: docker.DockerClient) -> None:
    name = _name("evt")
    stream = client.events(decode=True, filters={"type": "volume", "volume": name})
    try:
        threading.Timer(0.3, client.volumes.create, (name,)).start()
        event = next(stream)  # arrives while the stream stays open
        assert (event["Type"], event["Action"], event["Actor"]["ID"]) == ("volume", "create", name)
    finally:
        stream.close()
        client.volumes.get(name).remove()


def test_a_closed_events_stream_stops_listening(client: docker.DockerClient) -> None:
    before = client.info()["NEventsListener"]
    stream = client.events(decode=True)
    deadline = time.monotonic() + 10
    while client.info()["NEventsListener"] == before:
        assert time.monotonic() < deadline, "the stream was never counted"
        time.sleep(0.05)
    stream.close()
    while client.info()["NEventsListener"] != before:
        assert time.monotonic() < deadline + 10, "the closed stream is still listening"
        time.sleep(0.1)


def test_docker_py_reads_disk_usage(client: docker.DockerClient) -> None:
    name = _name("df")
    client.volumes.create(name)
    try:
        usage = client.df()
        assert name in [volume["Name"] for volume in usage["Volumes"]]
        assert {"LayersSize", "Images", "Containers", "BuildCache"} <= set(usage)
    finally:
        client.volumes.get(name).remove()


def _docker(porterd: PorterdProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DOCKER_CLI), "-H", porterd.url, *args],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip


needs_docker_cli = pytest.mark.skipif(
    not DOCKER_CLI.exists(), reason="Debian's docker CLI (docker.io) is not installed"
)


@needs_docker_cli
def test_docker_cli_version_shows_porterd(porterd: PorterdProcess) -> None:
    result = _docker(porterd, "version", "--format", "{{.Server.APIVersion}} {{.Server.Os}}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1.43 linux"


@needs_docker_cli
def test_docker_cli_info_reads_the_data_root(porterd: PorterdProcess) -> None:
    result = _docker(porterd, "info", "--format", "{{.DockerRootDir}}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(porterd.workdir / "data")


@needs_docker_cli
def test_docker_cli_volume_create_ls_rm(porterd: PorterdProcess) -> None:
    name = _name("cli")
    assert _docker(porterd, "volume", "create", name).stdout.strip() == name
    listing = _docker(porterd, "volume", "ls", "--format", "{{.Driver}} {{.Name}}")
    assert f"local {name}" in listing.stdout.splitlines()
    assert _docker(porterd, "volume", "rm", name).returncode == 0
    missing = _docker(porterd, "volume", "inspect", name)
    assert missing.returncode != 0 and "no such volume" in missing.stderr.lower()


@needs_docker_cli
def test_docker_cli_events_replays_a_window_of_past_events(porterd: PorterdProcess) -> None:
    name = _name("past")
    since = str(int(time.time()) - 1)
    _docker(porterd, "volume", "create", name)
    _docker(porterd, "volume", "rm", name)
    until = str(int(time.time()) + 1)
    result = _docker(
        porterd, "events", "--since", since, "--until", until, "--filter", f"volume={name}",
        "--format", "{{.Type}} {{.Action}} {{.Actor.ID}}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"volume create {name}", f"volume destroy {name}"]


@needs_docker_cli
def test_docker_cli_system_df_lists_volumes(porterd: PorterdProcess) -> None:
    name = _name("df")
    _docker(porterd, "volume", "create", name)
    try:
        result = _docker(porterd, "system", "df", "-v", "--format", "{{json .}}")
        assert result.returncode == 0, result.stderr
        assert name in result.stdout
    finally:
        _docker(porterd, "volume", "rm", name)


def test_a_second_porterd_on_the_same_data_root_is_refused(porterd: PorterdProcess) -> None:
    other = porterd.workdir / "second"
    argv = porterd_argv(porterd.workdir, "-H", f"unix://{other}.sock")
    argv[argv.index("--pidfile") + 1] = str(other) + ".pid"
    result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith("porterd: another porterd (pid ")
    assert result.stderr.count("\n") == 1
    assert not Path(f"{other}.sock").exists()


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGINT"])
def test_a_signal_stops_porterd_cleanly(tmp_path: Path, signal_name: str) -> None:
    import signal

    with running_porterd(tmp_path / "d") as process:
        pidfile = tmp_path / "d" / "porterd.pid"
        assert pidfile.read_text().strip() == str(process.process.pid)
        process.process.send_signal(getattr(signal, signal_name))
        assert process.process.wait(30) == 0
        assert not process.sock.exists()
        assert not pidfile.exists()
        assert "Traceback" not in process.log_text()


def test_a_restarted_porterd_keeps_its_volumes(tmp_path: Path) -> None:
    with running_porterd(tmp_path / "d") as first:
        docker.DockerClient(base_url=first.url).volumes.create("kept", labels={"a": "b"})
    with running_porterd(tmp_path / "d") as second:
        volume = docker.DockerClient(base_url=second.url).volumes.get("kept")
        assert volume.attrs["Labels"] == {"a": "b"}


@pytest.fixture(scope="module")
def tls_porterd(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("tls")
    authority = Authority(folder / "certs")
    server = authority.issue("server", server=True)
    port = 23760
    with running_porterd(
        folder / "d",
        "-H", f"tcp://127.0.0.1:{port}", "--tlsverify",
        "--tlscacert", str(authority.pair.cert),
        "--tlscert", str(server.cert), "--tlskey", str(server.key),
    ) as process:  # fmt: skip
        yield process, authority, port


def _in_namespace_docker(process: PorterdProcess, port: int, *tls: str):
    argv = [str(DOCKER_CLI), "-H", f"tcp://127.0.0.1:{port}", *tls, "version", "--format",
            "{{.Server.APIVersion}}"]  # fmt: skip
    return subprocess.run(
        process.in_namespace(argv), capture_output=True, text=True, check=False, timeout=60
    )


@needs_docker_cli
def test_tcp_with_mutual_tls_serves_a_client_with_a_ca_signed_cert(tls_porterd) -> None:
    process, authority, port = tls_porterd
    client = authority.issue("client", server=False)
    result = _in_namespace_docker(
        process, port, "--tlsverify", "--tlscacert", str(authority.pair.cert),
        "--tlscert", str(client.cert), "--tlskey", str(client.key),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1.43"


@needs_docker_cli
def test_tcp_with_mutual_tls_refuses_a_client_without_a_cert(tls_porterd) -> None:
    process, authority, port = tls_porterd
    result = _in_namespace_docker(
        process, port, "--tlsverify", "--tlscacert", str(authority.pair.cert)
    )
    assert result.returncode != 0
    assert "1.43" not in result.stdout


def test_porterd_idle_resident_memory_is_under_60_mb(porterd: PorterdProcess) -> None:
    """The issue's goal for an idle porterd that has served a few requests (lazy imports)."""
    docker.DockerClient(base_url=porterd.url).info()
    status = Path(f"/proc/{porterd.process.pid}/status").read_text()
    rss_kb = int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1])
    assert rss_kb < 60 * 1024, f"porterd idle RSS {rss_kb / 1024:.1f} MB"


def test_no_traceback_reached_the_log(porterd: PorterdProcess) -> None:
    assert "Traceback" not in porterd.log_text(), porterd.log_text()
