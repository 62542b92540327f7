"""`porter build` against the fake engine: the query it sends, the context tar (with
.dockerignore applied), what it prints and its exit codes."""

from __future__ import annotations

import base64
import io
import json
import tarfile
from pathlib import Path

import pytest
from porter_fake_engine import FakeEngine, Reply

IMAGE_ID = "sha256:" + "ab" * 32
SUCCESS = [
    {"stream": "Dockerfile:1: FROM\n"},
    {"aux": {"ID": IMAGE_ID}},
    {"stream": "Successfully built abababababab\n"},
    {"stream": "Successfully tagged app:1\n"},
]


def answer(engine: FakeEngine, messages: list[dict]) -> None:
    lines = [json.dumps(m).encode() + b"\r\n" for m in messages]
    engine.route("POST", "/build", lambda r: Reply(200, chunks=lines))


def sent_members(engine: FakeEngine) -> dict[str, bytes]:
    (request,) = engine.seen("POST", "/build")
    with tarfile.open(fileobj=io.BytesIO(request.body), mode="r:") as tar:
        return {
            m.name: (tar.extractfile(m).read() if m.isfile() else b"")  # type: ignore[union-attr]
            for m in tar.getmembers()
        }


@pytest.fixture
def context(tmp_path: Path) -> Path:
    root = tmp_path / "ctx"
    (root / "src").mkdir(parents=True)
    (root / "Dockerfile").write_text("FROM busybox\nCOPY src /src\n")
    (root / "src" / "main.txt").write_text("main\n")
    (root / "src" / "debug.log").write_text("noise\n")
    (root / ".dockerignore").write_text("**/*.log\nDockerfile\n")
    return root


def test_build_sends_the_context_minus_dockerignore(engine, porter, context) -> None:
    answer(engine, SUCCESS)
    result = porter("build", "-t", "app:1", str(context))
    assert result.returncode == 0, result.stderr
    members = sent_members(engine)
    assert members["src/main.txt"] == b"main\n"
    assert "src/debug.log" not in members
    assert members["Dockerfile"] == b"FROM busybox\nCOPY src /src\n"  # always sent
    assert ".dockerignore" in members


def test_build_prints_the_stream(engine, porter, context) -> None:
    answer(engine, SUCCESS)
    result = porter("build", "-t", "app:1", str(context))
    assert result.stdout.splitlines()[-2:] == [
        "Successfully built abababababab",
        "Successfully tagged app:1",
    ]


def test_build_sends_dockers_query(engine, porter, context) -> None:
    answer(engine, SUCCESS)
    porter(
        "build", "-t", "a:1", "-t", "b:2", "--build-arg", "X=1", "--label", "k=v",
        "--target", "final", "--no-cache", "--pull", "--network", "none",
        "--platform", "linux/amd64", str(context),
    )  # fmt: skip
    (request,) = engine.seen("POST", "/build")
    assert request.query["t"] == ["a:1", "b:2"]
    assert json.loads(request.param("buildargs") or "") == {"X": "1"}
    assert json.loads(request.param("labels") or "") == {"k": "v"}
    assert request.param("target") == "final"
    assert request.param("nocache") == "1"
    assert request.param("pull") == "1"
    assert request.param("networkmode") == "none"
    assert request.param("platform") == "linux/amd64"
    assert request.param("dockerfile") == "Dockerfile"


def test_quiet_prints_only_the_image_id_and_iidfile_gets_it(
    engine, porter, context, tmp_path
) -> None:
    answer(engine, [{"aux": {"ID": IMAGE_ID}}, {"stream": IMAGE_ID + "\n"}])
    result = porter("build", "-q", "--iidfile", str(tmp_path / "iid"), str(context))
    assert result.stdout == IMAGE_ID + "\n"
    assert (tmp_path / "iid").read_text() == IMAGE_ID
    assert engine.seen("POST", "/build")[0].param("q") == "1"


def test_a_dockerfile_outside_the_context_travels_in_the_tar(
    engine, porter, context, tmp_path
) -> None:
    answer(engine, SUCCESS)
    other = tmp_path / "Other.dockerfile"
    other.write_text("FROM scratch\n")
    porter("build", "-f", str(other), str(context))
    name = engine.seen("POST", "/build")[0].param("dockerfile") or ""
    assert name.startswith(".dockerfile.")
    assert sent_members(engine)[name] == b"FROM scratch\n"


def test_a_dockerfile_inside_the_context_is_named_by_its_path(engine, porter, context) -> None:
    answer(engine, SUCCESS)
    (context / "src" / "Build").write_text("FROM scratch\n")
    porter("build", "-f", str(context / "src" / "Build"), str(context))
    assert engine.seen("POST", "/build")[0].param("dockerfile") == "src/Build"


def test_a_dockerfile_on_stdin_is_a_context_of_its_own(engine, porter) -> None:
    answer(engine, SUCCESS)
    result = porter("build", "-", input="FROM scratch\n")
    assert result.returncode == 0, result.stderr
    name = engine.seen("POST", "/build")[0].param("dockerfile") or ""
    assert sent_members(engine) == {name: b"FROM scratch\n"}


def test_an_error_in_the_stream_is_one_line_and_exit_1(engine, porter, context) -> None:
    error = "Dockerfile:2: RUN: 'false' exited with status 1"
    answer(engine, [{"stream": "Dockerfile:2: RUN\n"}, {"error": error, "errorDetail": {}}])
    result = porter("build", str(context))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"porter: {error}"]


def test_a_missing_context_is_one_line_and_no_request(engine, porter, tmp_path) -> None:
    result = porter("build", str(tmp_path / "nowhere"))
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert "not found" in result.stderr
    assert engine.seen("POST", "/build") == []


def test_a_bad_label_is_refused_before_any_request(engine, porter, context) -> None:
    result = porter("build", "--label", "novalue", str(context))
    assert result.returncode != 0
    assert "KEY=VALUE" in result.stderr
    assert engine.seen("POST", "/build") == []


def test_the_logins_kept_travel_as_the_registry_config(engine, porter, context, tmp_path) -> None:
    answer(engine, SUCCESS)
    (tmp_path / "config").mkdir(exist_ok=True)
    login = base64.b64encode(b"ann:secret").decode()
    auths = {"auths": {"registry.test:5000": {"auth": login}}}
    (tmp_path / "config" / "config.json").write_text(json.dumps(auths))
    porter("build", str(context))
    header = engine.seen("POST", "/build")[0].headers["x-registry-config"]
    assert json.loads(base64.urlsafe_b64decode(header)) == {
        "registry.test:5000": {
            "username": "ann",
            "password": "secret",
            "serveraddress": "registry.test:5000",
        }
    }


def test_without_logins_no_registry_config_is_sent(engine, porter, context) -> None:
    answer(engine, SUCCESS)
    porter("build", str(context))
    assert "x-registry-config" not in engine.seen("POST", "/build")[0].headers


def test_symlinks_are_sent_as_links_and_not_followed(engine, porter, context) -> None:
    answer(engine, SUCCESS)
    (context / "to-src").symlink_to("src")
    (context / "to-file").symlink_to("src/main.txt")
    porter("build", str(context))
    (request,) = engine.seen("POST", "/build")
    with tarfile.open(fileobj=io.BytesIO(request.body), mode="r:") as tar:
        links = {m.name: m.linkname for m in tar.getmembers() if m.issym()}
        names = tar.getnames()
    assert links == {"to-src": "src", "to-file": "src/main.txt"}
    assert "to-src/main.txt" not in names
