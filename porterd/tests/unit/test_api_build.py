"""`POST /build` and `POST /build/prune` through falcon.testing, over a real image store.

The builds here change only the config, or COPY (which needs an overlay mount: root), so no
OCI runtime is needed; RUN steps are covered end to end in tests/integration/test_build.py.
"""

from __future__ import annotations

import base64
import fcntl
import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import falcon.testing
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from image_support import add_image, new_store
from porterd.api.app import create_app
from porterd.building import BuildCancelled, BuildRequest, BuildService, RunOutput
from porterd.images import ImageStore

BUSYBOX = "docker.io/library/busybox:latest"
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="COPY mounts an overlay: needs root")


@pytest.fixture
def store(tmp_path: Path) -> ImageStore:
    stored = new_store(tmp_path)
    add_image(stored, [BUSYBOX], {"bin/sh": b"not really a shell\n"}, {"Env": ["PATH=/bin"]})
    return stored


@pytest.fixture
def builds(store: ImageStore) -> BuildService:
    return BuildService(images=store, runtime="/nonexistent/runtime")


@pytest.fixture
def client(builds: BuildService) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(SimpleNamespace(builds=builds), ["build"]))


def context_tar(files: dict[str, bytes], compress: bool = False) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buffer.getvalue()) if compress else buffer.getvalue()


def build(client, files: dict[str, bytes], compress: bool = False, **params: Any):
    return client.simulate_post(
        "/v1.43/build",
        params=params,
        body=context_tar(files, compress),
        headers={"Content-Type": "application/x-tar"},
    )


def messages(result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.text.splitlines() if line.strip()]


def built_id(result) -> str:
    return next(m["aux"]["ID"] for m in messages(result) if "aux" in m)


def last_layer(store: ImageStore, name: str) -> dict[str, bytes]:
    image = store.image(store.get(name))
    layout = store.layout()
    with (
        layout.open_blob(image.manifest.layers[-1].digest) as blob,
        tarfile.open(fileobj=blob, mode="r:*") as tar,
    ):
        return {
            m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }


def test_a_build_from_an_image_of_the_store_is_named_by_each_t(client, store) -> None:
    dockerfile = b'FROM busybox\nLABEL team=core\nCMD ["/bin/sh"]\n'
    result = build(client, {"Dockerfile": dockerfile}, t=["app:1", "app:2"])
    assert result.status_code == 200
    image_id = built_id(result)
    for name in ("docker.io/library/app:1", "docker.io/library/app:2"):
        stored = store.get(name)
        assert stored.id == image_id
        assert stored.config["config"]["Cmd"] == ["/bin/sh"]
        assert stored.config["config"]["Labels"] == {"team": "core"}
        assert stored.config["config"]["Env"] == ["PATH=/bin"]  # busybox's, not pulled


def test_the_stream_ends_with_dockers_success_lines(client) -> None:
    result = build(client, {"Dockerfile": b"FROM busybox\nCMD x\n"}, t="app:1")
    streams = [m["stream"] for m in messages(result) if "stream" in m]
    assert streams[-2] == f"Successfully built {built_id(result)[7:19]}\n"
    assert streams[-1] == "Successfully tagged app:1\n"


def test_quiet_streams_only_the_image_id(client) -> None:
    result = build(client, {"Dockerfile": b"FROM busybox\nCMD x\n"}, q="1")
    streams = [m["stream"] for m in messages(result) if "stream" in m]
    assert streams == [built_id(result) + "\n"]


def test_buildargs_and_labels_reach_the_config(client, store) -> None:
    dockerfile = b"FROM busybox\nARG WHO\nENV GREETING=hello-$WHO\n"
    result = build(
        client,
        {"Dockerfile": dockerfile},
        t="args:1",
        buildargs=json.dumps({"WHO": "porter"}),
        labels=json.dumps({"built.by": "test"}),
    )
    assert result.status_code == 200
    config = store.get("args:1").config["config"]
    assert "GREETING=hello-porter" in config["Env"]
    assert config["Labels"] == {"built.by": "test"}


def test_target_builds_up_to_that_stage(client, store) -> None:
    dockerfile = b"FROM busybox AS first\nCMD one\nFROM first\nCMD two\n"
    build(client, {"Dockerfile": dockerfile}, t="staged:1", target="first")
    assert store.get("staged:1").config["config"]["Cmd"] == ["/bin/sh", "-c", "one"]


def test_the_dockerfile_parameter_names_another_file_of_the_context(client, store) -> None:
    files = {"Dockerfile": b"FROM busybox\nCMD wrong\n", "build/Other": b"FROM busybox\nCMD o\n"}
    build(client, files, t="other:1", dockerfile="build/Other")
    assert store.get("other:1").config["config"]["Cmd"] == ["/bin/sh", "-c", "o"]


@needs_root
def test_copy_takes_files_from_a_gzip_context_minus_dockerignore(client, store) -> None:
    files = {
        "Dockerfile": b"FROM busybox\nCOPY . /app/\n",
        ".dockerignore": b"secret\n",
        "hello.txt": b"hello from the context\n",
        "secret": b"left out\n",
    }
    result = build(client, files, compress=True, t="copied:1")
    assert result.status_code == 200, result.text
    layer = last_layer(store, "copied:1")
    assert layer["app/hello.txt"] == b"hello from the context\n"
    assert "app/secret" not in layer


def test_a_syntax_error_is_a_400_naming_the_line(client, store) -> None:
    result = build(client, {"Dockerfile": b"FROM busybox\nFOO bar\n"}, t="bad:1")
    assert result.status_code == 400
    assert "Dockerfile:2" in result.json["message"]
    assert "FOO" in result.json["message"]


def test_a_missing_dockerfile_is_a_400(client) -> None:
    result = build(client, {"other": b"x"}, t="bad:1")
    assert result.status_code == 400
    assert result.json["message"] == "Cannot locate specified Dockerfile: Dockerfile"


def test_a_dockerfile_outside_the_context_is_refused(client) -> None:
    result = build(client, {"Dockerfile": b"FROM busybox\n"}, dockerfile="../../etc/passwd")
    assert result.status_code == 400
    assert "Cannot locate specified Dockerfile" in result.json["message"]


def test_a_body_that_is_not_a_tar_is_a_400(client) -> None:
    result = client.simulate_post("/v1.43/build", body=b"\x1f\x8b not really gzip" * 40)
    assert result.status_code == 400


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("t", "Not A Name"),
        ("buildargs", "{not json"),
        ("labels", '["a"]'),
        ("networkmode", "container:x"),
        ("platform", "nope/"),
    ],
)
def test_a_bad_query_parameter_is_a_400(client, name: str, value: str) -> None:
    result = build(client, {"Dockerfile": b"FROM busybox\n"}, **{name: value})
    assert result.status_code == 400
    assert result.json["message"]


@needs_root
def test_a_failed_build_names_nothing_and_leaves_no_context(client, store, builds) -> None:
    result = build(client, {"Dockerfile": b"FROM busybox\nCOPY missing /x\n"}, t="failed:1")
    last = messages(result)[-1]
    assert last["error"] == "Dockerfile:2: COPY: missing: not found in the build context"
    assert last["errorDetail"]["message"] == last["error"]
    assert [list(s.names) for s in store.images()] == [[BUSYBOX]]
    assert not builds.root.exists() or not any(builds.root.iterdir())


def test_the_context_folder_is_removed_after_a_build(client, builds) -> None:
    build(client, {"Dockerfile": b"FROM busybox\nCMD x\n"}, t="done:1")
    assert not any(builds.root.iterdir())


def test_prune_drops_the_build_cache(client, store) -> None:
    build(client, {"Dockerfile": b"FROM busybox\nCMD x\n"}, t="cached:1")
    result = client.simulate_post("/v1.43/build/prune")
    assert result.status_code == 200
    assert result.json["CachesDeleted"]
    assert result.json["SpaceReclaimed"] > 0
    assert not (Path(store.layout().path) / "porter-build" / "cache").exists()
    store.get("cached:1")  # the images stay


def test_run_output_reaches_the_report_line_by_line() -> None:
    lines: list[str] = []
    with RunOutput(lines.append) as output:
        os.write(output.fd, b"first\nsecond\npartial")
    assert lines == ["first", "second", "partial"]


def test_run_output_is_drained_after_the_report_fails() -> None:
    def report(line: str) -> None:
        raise ConnectionError("the client went away")

    with RunOutput(report) as output:
        for _ in range(64):  # more than a pipe holds: would block if nobody read
            os.write(output.fd, b"x" * 4095 + b"\n")


def auth_header(document: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode()


@pytest.fixture
def pulls(store: ImageStore, monkeypatch) -> list[tuple[str, Any]]:
    """The pulls a build asks of the store (each answered with busybox, reaching no registry)."""
    seen: list[tuple[str, Any]] = []

    def pull(reference, emit, platform=None, credentials=None):
        seen.append((str(reference), credentials))
        return store.get(BUSYBOX)

    monkeypatch.setattr(store, "pull", pull)
    return seen


def test_an_image_the_store_lacks_is_pulled_with_the_registry_config(client, pulls) -> None:
    config = {"registry.test:5000": {"username": "ann", "password": "secret"}}
    result = client.simulate_post(
        "/v1.43/build",
        params={"t": "pulled:1"},
        body=context_tar({"Dockerfile": b"FROM registry.test:5000/team/base\n"}),
        headers={"X-Registry-Config": auth_header(config)},
    )
    assert result.status_code == 200, result.text
    ((reference, credentials),) = pulls
    assert reference == "registry.test:5000/team/base:latest"
    assert (credentials.username, credentials.password) == ("ann", "secret")


def test_pull_fetches_even_an_image_the_store_has(client, pulls) -> None:
    build(client, {"Dockerfile": b"FROM busybox\n"}, t="fresh:1", pull="1")
    assert pulls == [(BUSYBOX, None)]


def test_an_image_of_the_store_is_not_pulled(client, pulls) -> None:
    build(client, {"Dockerfile": b"FROM busybox\n"}, t="local:1")
    assert pulls == []


def test_a_registry_config_that_is_not_base64_json_is_a_400(client, pulls) -> None:
    result = client.simulate_post(
        "/v1.43/build",
        body=context_tar({"Dockerfile": b"FROM busybox\n"}),
        headers={"X-Registry-Config": "%%%"},
    )
    assert result.status_code == 400
    assert "X-Registry-Config" in result.json["message"]


def layout_is_free(store: ImageStore) -> bool:
    """Whether gc could take the layout's exclusive lock now (no writer holds it shared)."""
    fd = os.open(store.layout_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def test_from_images_are_pulled_before_the_build_holds_the_layout(
    client, store, monkeypatch
) -> None:
    free: list[bool] = []

    def pull(reference, emit, platform=None, credentials=None):
        free.append(layout_is_free(store))
        return store.get(BUSYBOX)

    monkeypatch.setattr(store, "pull", pull)
    dockerfile = b"FROM registry.test/a AS one\nFROM registry.test/b\nCOPY --from=one / /\n"
    build(client, {"Dockerfile": dockerfile}, t="two:1")
    assert free == [True, True]


@needs_root
def test_steps_stand_on_the_stores_snapshots_leased_only_during_the_build(client, store) -> None:
    result = build(client, {"Dockerfile": b"FROM busybox\nCOPY a /a\n", "a": b"x"}, t="s:1")
    assert result.status_code == 200, result.text
    assert not (Path(store.layout().path) / "porter-build" / "snapshots").exists()
    assert store.snapshots.leased() == set()
    assert store.lowerdirs(store.get("s:1"))  # every layer of the result is unpacked


def test_a_build_whose_client_is_gone_stops_and_names_nothing(builds, store, tmp_path) -> None:
    root = tmp_path / "ctx"
    root.mkdir()
    (root / "Dockerfile").write_text("FROM busybox\nCMD x\n")
    request = BuildRequest(names=("docker.io/library/gone:1",))
    with pytest.raises(BuildCancelled):
        builds.build(root, request, lambda message: None, gone=lambda: True)
    assert [list(s.names) for s in store.images()] == [[BUSYBOX]]


def test_a_build_whose_stream_cannot_be_written_stops_and_names_nothing(
    builds, store, tmp_path
) -> None:
    root = tmp_path / "ctx"
    root.mkdir()
    (root / "Dockerfile").write_text("FROM busybox\nCMD x\n")

    def emit(message: dict[str, Any]) -> None:
        raise ConnectionError("the client went away")

    with pytest.raises(BuildCancelled):
        builds.build(root, BuildRequest(names=("docker.io/library/unread:1",)), emit)
    assert [list(s.names) for s in store.images()] == [[BUSYBOX]]


def test_every_step_line_is_streamed_in_order_by_the_run_outputs_reader(builds, tmp_path) -> None:
    root = tmp_path / "ctx"
    root.mkdir()
    (root / "Dockerfile").write_text("FROM busybox\nENV A=1\nCMD x\n")
    streamed: list[tuple[str, str]] = []

    def emit(message: dict[str, Any]) -> None:
        streamed.append((message["stream"], threading.current_thread().name))

    builds.build(root, BuildRequest(names=("docker.io/library/steps:1",)), emit)
    assert streamed == [
        (line, "porter-build-output")
        for line in ["[stage 0] FROM busybox\n", "Dockerfile:2: ENV\n", "Dockerfile:3: CMD\n"]
    ]


def test_serving_the_build_routes_leaves_the_builder_unimported() -> None:
    """porterd's start-up (every router, described for OpenAPI, and a BuildService) does not
    import porter_image's builder: the first build does."""
    probe = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from types import SimpleNamespace\n"
        "from porterd.api.openapi import describe_daemon_api\n"
        "from porterd.building import BuildService\n"
        "describe_daemon_api()\n"
        "BuildService(images=SimpleNamespace(root=Path('/nowhere')), runtime='crun')\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    modules = json.loads(result.stdout.strip().splitlines()[-1])
    assert "porterd.api.build" in modules
    assert [m for m in modules if m.startswith("porter_image.build")] == []
    assert "porterd.store_builder" not in modules
