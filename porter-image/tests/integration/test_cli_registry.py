"""The registry commands (copy, inspect, list-tags, delete, referrers, login, logout) against a
real porter-registry on loopback: anonymous, htpasswd (Basic) and its token endpoint (Bearer)."""

from __future__ import annotations

import base64
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import pytest
import requests
from click.testing import CliRunner, Result
from copy_test_support import SIGNATURE_TYPE, make_signature
from porter_image.cli.main import cli
from porter_image.distribution.auth import parse_challenge
from porter_image.layout import Layout
from registry_support import host_of, running_registry

USERS = {"alice": "alice-secret", "bob": "bob-secret"}
POLICY = [
    {"repository": "team/*", "users": ["alice"], "actions": ["pull", "push", "delete"]},
    {"repository": "public/*", "users": ["*"], "actions": ["*"], "anonymous": ["pull"]},
]


@pytest.fixture(autouse=True)
def credential_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A docker config folder of the test's own; podman's auth file pointed nowhere."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(tmp_path / "auth.json"))
    return tmp_path / "docker" / "config.json"


def run(*args: object, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], input=stdin)


def write_config(folder: Path, kind: str) -> Path:
    htpasswd = folder / "htpasswd"
    lines = [
        f"{u}:{bcrypt.hashpw(p.encode(), bcrypt.gensalt(4)).decode()}" for u, p in USERS.items()
    ]
    htpasswd.write_text("\n".join(lines) + "\n")
    config = folder / "registry.json"
    auth = {"kind": kind, "htpasswd": str(htpasswd), "policy": POLICY}
    config.write_text(json.dumps({"auth": auth}))
    return config


@pytest.fixture(scope="module", params=["htpasswd", "token"])
def secured(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A registry needing a login (Basic, then Bearer tokens): its host."""
    folder = tmp_path_factory.mktemp(f"registry-{request.param}")
    with running_registry(
        folder / "data", "--config", str(write_config(folder, request.param))
    ) as r:
        yield host_of(r.url)


@pytest.fixture(scope="module")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A registry with the token flow only (for identity tokens): its host."""
    folder = tmp_path_factory.mktemp("registry-token-only")
    with running_registry(folder / "data", "--config", str(write_config(folder, "token"))) as r:
        yield host_of(r.url)


@pytest.fixture(scope="module")
def anonymous(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_registry(tmp_path_factory.mktemp("registry-open") / "data") as r:
        yield host_of(r.url)


@pytest.fixture
def busybox(busybox_image: tuple[Path, str]) -> str:
    layout, tag = busybox_image
    return f"oci:{layout}:{tag}"


def test_login_checks_then_stores_credentials_with_mode_0600(
    secured: str, credential_files: Path
) -> None:
    result = run("login", secured, "-u", "alice", "--password-stdin", stdin="alice-secret\n")
    assert result.exit_code == 0, result.output
    assert "Login Succeeded" in result.output
    assert stat.S_IMODE(credential_files.stat().st_mode) == 0o600
    assert secured in json.loads(credential_files.read_text())["auths"]


def test_login_with_a_wrong_password_stores_nothing(secured: str, credential_files: Path) -> None:
    result = run("login", secured, "-u", "alice", "-p", "wrong")
    assert result.exit_code == 1
    assert "unauthorized" in result.stderr and len(result.stderr.splitlines()) == 1
    assert not credential_files.exists()


def test_copy_uses_the_stored_login(secured: str, busybox: str) -> None:
    run("login", secured, "-u", "alice", "-p", "alice-secret")
    result = run("copy", "-q", busybox, f"docker://{secured}/team/bb:stored")
    assert result.exit_code == 0, result.output
    assert run("list-tags", f"docker://{secured}/team/bb").output.split() == ["stored"]


def test_copy_with_wrong_credentials_is_one_unauthorized_line(secured: str, busybox: str) -> None:
    result = run(
        "copy", "-q", "--dest-creds", "alice:nope", busybox, f"docker://{secured}/team/x:1"
    )
    assert result.exit_code == 1
    assert "unauthorized" in result.stderr and len(result.stderr.splitlines()) == 1


def test_a_user_without_push_is_denied(secured: str, busybox: str) -> None:
    result = run(
        "copy", "-q", "--dest-creds", "bob:bob-secret", busybox, f"docker://{secured}/team/x:1"
    )
    assert result.exit_code == 1
    assert "denied" in result.stderr or "unauthorized" in result.stderr


def test_anonymous_pull_of_a_public_repository(secured: str, busybox: str, tmp_path: Path) -> None:
    pushed = run(
        "copy",
        "-q",
        "--dest-creds",
        "alice:alice-secret",
        busybox,
        f"docker://{secured}/public/bb:1",
    )
    assert pushed.exit_code == 0, pushed.output
    pulled = run("copy", "-q", f"docker://{secured}/public/bb:1", f"oci:{tmp_path / 'out'}:bb")
    assert pulled.exit_code == 0, pulled.output
    assert Layout.open(tmp_path / "out").tags() == ["bb"]


def test_logout_forgets_and_a_second_logout_fails(secured: str, credential_files: Path) -> None:
    run("login", secured, "-u", "alice", "-p", "alice-secret")
    assert run("logout", secured).exit_code == 0
    assert secured not in json.loads(credential_files.read_text())["auths"]
    second = run("logout", secured)
    assert second.exit_code == 1 and "not logged in" in second.stderr


def test_a_credential_helper_answers_for_its_host(
    secured: str,
    busybox: str,
    tmp_path: Path,
    credential_files: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    helper = tmp_path / "bin" / "docker-credential-porter-test"
    helper.parent.mkdir()
    helper.write_text(
        "#!/bin/sh\nread server\n"
        'echo \'{"ServerURL":"\'$server\'","Username":"alice","Secret":"alice-secret"}\'\n'
    )
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{helper.parent}:{__import__('os').environ['PATH']}")
    credential_files.parent.mkdir()
    credential_files.write_text(json.dumps({"credHelpers": {secured: "porter-test"}}))
    result = run("copy", "-q", busybox, f"docker://{secured}/team/bb:helper")
    assert result.exit_code == 0, result.output


def test_an_identity_token_in_config_json_is_sent_as_a_refresh_token(
    token_registry: str, busybox: str, credential_files: Path
) -> None:
    challenge = parse_challenge(
        requests.get(f"http://{token_registry}/v2/", timeout=10).headers["WWW-Authenticate"]
    )
    assert challenge is not None
    login = {
        "grant_type": "password",
        "username": "alice",
        "password": "alice-secret",
        "service": challenge.params["service"],
        "access_type": "offline",
    }
    answer = requests.post(challenge.params["realm"], data=login, timeout=10).json()
    token_user = base64.b64encode(b"<token>:").decode()
    entry = {"auth": token_user, "identitytoken": answer["refresh_token"]}
    credential_files.parent.mkdir()
    credential_files.write_text(json.dumps({"auths": {token_registry: entry}}))
    result = run("copy", "-q", busybox, f"docker://{token_registry}/team/bb:identity")
    assert result.exit_code == 0, result.output


# -- without auth -------------------------------------------------------------------------------


def test_copy_prints_the_digest_and_writes_the_digestfile(
    anonymous: str, busybox: str, busybox_image: tuple[Path, str], tmp_path: Path
) -> None:
    layout, tag = busybox_image
    digest = str(Layout.open(layout).resolve(tag).digest)
    result = run(
        "copy",
        "--progress",
        "plain",
        "--digestfile",
        tmp_path / "d",
        busybox,
        f"docker://{anonymous}/library/bb:1",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == digest
    assert (tmp_path / "d").read_text().strip() == digest


def test_json_progress_is_dockers_progress_messages(
    anonymous: str, busybox: str, tmp_path: Path
) -> None:
    result = run("copy", "--progress", "json", busybox, f"oci:{tmp_path / 'copy'}:bb")
    messages = [json.loads(line) for line in result.stdout.splitlines()]
    statuses = {m["status"] for m in messages}
    assert {"Pulling fs layer", "Download complete"} <= statuses
    moving = [m for m in messages if m["status"] == "Downloading"]
    assert moving and set(moving[-1]["progressDetail"]) == {"current", "total"}
    assert messages[-1]["status"].startswith("Digest: sha256:")


def test_inspect_of_a_registry_image_shows_config_and_layers(anonymous: str, busybox: str) -> None:
    run("copy", "-q", busybox, f"docker://{anonymous}/library/bb:inspect")
    info = json.loads(
        run("inspect", "--format", "json", f"docker://{anonymous}/library/bb:inspect").output
    )
    assert info["Os"] == "linux" and len(info["Layers"]) == 1
    assert info["LayersData"][0]["Digest"] == info["Layers"][0]


def test_list_tags_follows_pagination(anonymous: str, busybox: str) -> None:
    tags = [f"t{i:03d}" for i in range(120)]
    for tag in tags:
        run("copy", "-q", busybox, f"docker://{anonymous}/paged/bb:{tag}")
    result = run("list-tags", "--format", "json", f"docker://{anonymous}/paged/bb")
    assert sorted(json.loads(result.output)["Tags"]) == tags


def test_delete_removes_the_manifest(anonymous: str, busybox: str) -> None:
    run("copy", "-q", busybox, f"docker://{anonymous}/gone/bb:1")
    assert run("delete", f"docker://{anonymous}/gone/bb:1").exit_code == 0
    again = run("inspect", f"docker://{anonymous}/gone/bb:1")
    assert again.exit_code == 3 and "not found" in again.stderr


def test_referrers_lists_artifacts_whose_subject_is_the_image(
    anonymous: str, busybox: str, busybox_image: tuple[Path, str], tmp_path: Path
) -> None:
    run("copy", "-q", busybox, f"docker://{anonymous}/signed/bb:1")
    layout, tag = busybox_image
    subject = Layout.open(layout).resolve(tag)
    artifacts = Layout.create(tmp_path / "artifacts")
    make_signature(artifacts, "sig", subject)
    pushed = run(
        "copy",
        "-q",
        f"oci:{artifacts.path}:sig",
        f"docker://{anonymous}/signed/bb@{artifacts.resolve('sig').digest}",
    )
    assert pushed.exit_code == 0, pushed.output
    listed = json.loads(
        run("referrers", "--format", "json", f"docker://{anonymous}/signed/bb:1").output
    )
    assert [d["artifactType"] for d in listed] == [SIGNATURE_TYPE]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("copy", "docker://team/App", "oci:out:x"), "must be lowercase"),
        (("list-tags", "docker://localhost:5000/x:tag"), "without tag or digest"),
        (("copy", "dir:/x", "oci:out:x"), "not supported"),
    ],
)
def test_malformed_names_are_usage_errors(args: tuple[str, ...], reason: str) -> None:
    result = run(*args)
    assert result.exit_code == 2 and reason in result.stderr
    assert len(result.stderr.splitlines()) == 1
