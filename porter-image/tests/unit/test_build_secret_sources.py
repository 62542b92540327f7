"""The --secret and --ssh values of porter-image build, read as buildx reads them."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from porter_image.build.secret_sources import MAX_SECRET_SIZE, SecretSource, parse_ssh


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id=a,src=/f", SecretSource("a", file="/f")),
        ("id=a,source=/f,type=file", SecretSource("a", file="/f")),
        ("id=a,env=VAR", SecretSource("a", env="VAR")),
        ("type=env,id=a,src=VAR", SecretSource("a", env="VAR")),
    ],
)
def test_a_secret_names_a_file_or_a_variable(text: str, expected: SecretSource) -> None:
    assert SecretSource.parse(text) == expected


def test_a_secret_id_alone_is_the_variable_of_that_name_when_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PORTER_TEST_TOKEN", "x")
    assert SecretSource.parse("id=PORTER_TEST_TOKEN").env == "PORTER_TEST_TOKEN"


def test_a_secret_id_alone_is_the_file_of_that_name_without_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PORTER_TEST_TOKEN", raising=False)
    assert SecretSource.parse("id=PORTER_TEST_TOKEN").file == "PORTER_TEST_TOKEN"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("src=/f", "no id="),
        ("id=a,src=/f,env=V", "src= and env= both given"),
        ("id=a,type=ssh", "type=ssh: expected file or env"),
        ("id=a,mode=0400", "unknown key 'mode': expected id=, src=, env= or type="),
        ("id", "field 1 is not KEY=VALUE"),
    ],
)
def test_a_bad_secret_value_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SecretSource.parse(text)


@pytest.mark.parametrize("text", ["id=a,value=hunter2", "id=a,hunter2", "hunter2"])
def test_a_bad_secret_value_is_not_quoted_in_the_error(text: str) -> None:
    with pytest.raises(ValueError) as raised:
        SecretSource.parse(text)
    assert "hunter2" not in str(raised.value)


def test_a_secret_reads_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTER_TEST_TOKEN", "v4lue")
    assert SecretSource("t", env="PORTER_TEST_TOKEN").read() == b"v4lue"


def test_a_secret_of_an_unset_variable_cannot_be_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORTER_TEST_TOKEN", raising=False)
    with pytest.raises(ValueError, match="the variable PORTER_TEST_TOKEN is not set"):
        SecretSource("t", env="PORTER_TEST_TOKEN").read()


def test_a_secret_larger_than_buildkits_limit_cannot_be_read(tmp_path: Path) -> None:
    path = tmp_path / "big"
    path.write_bytes(b"x" * (MAX_SECRET_SIZE + 1))
    with pytest.raises(ValueError, match="larger than"):
        SecretSource("big", file=str(path)).read()


def test_ssh_id_alone_is_the_agent_of_ssh_auth_sock(tmp_path: Path) -> None:
    path = tmp_path / "agent.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        assert parse_ssh("default", {"SSH_AUTH_SOCK": str(path)}) == ("default", (str(path),))


def test_ssh_with_key_files_names_each(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("")
    (tmp_path / "b").write_text("")
    value = f"deploy={tmp_path}/a,{tmp_path}/b"
    assert parse_ssh(value, {}) == ("deploy", (f"{tmp_path}/a", f"{tmp_path}/b"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("default", "SSH_AUTH_SOCK is not set"),
        ("default=/nonexistent/agent.sock", "/nonexistent/agent.sock: no such file or socket"),
        ("=x", "expected ID"),
    ],
)
def test_a_bad_ssh_value_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_ssh(text, {})
