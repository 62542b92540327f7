"""The detach keys and image references of porter's terminal and pull/push commands."""

from __future__ import annotations

import pytest
from porter_cli.client.reference import parse
from porter_cli.errors import CliError
from porter_cli.terminal import DetachScanner, parse_detach_keys


def test_default_detach_keys_are_ctrl_p_ctrl_q() -> None:
    assert parse_detach_keys("ctrl-p,ctrl-q") == b"\x10\x11"


def test_detach_keys_may_be_letters_and_punctuation() -> None:
    assert parse_detach_keys("a,ctrl-@,ctrl-[") == b"a\x00\x1b"


@pytest.mark.parametrize("spec", ["", "ctrl-", "ctrl-pp", "shift-a"])
def test_bad_detach_keys_are_refused(spec: str) -> None:
    with pytest.raises(CliError, match="invalid detach keys"):
        parse_detach_keys(spec)


def test_the_sequence_detaches_and_what_came_before_is_forwarded() -> None:
    assert DetachScanner(b"\x10\x11").feed(b"ls\r\x10\x11rest") == (b"ls\r", True)


def test_the_sequence_split_across_reads_still_detaches() -> None:
    scanner = DetachScanner(b"\x10\x11")
    assert scanner.feed(b"x\x10") == (b"x", False)
    assert scanner.feed(b"\x11") == (b"", True)


def test_a_held_key_not_followed_by_the_rest_is_forwarded() -> None:
    scanner = DetachScanner(b"\x10\x11")
    assert scanner.feed(b"\x10") == (b"", False)
    assert scanner.feed(b"a") == (b"\x10a", False)
    assert scanner.feed(b"\x10\x10\x11") == (b"\x10", True)


@pytest.mark.parametrize(
    ("name", "repository", "version", "registry"),
    [
        ("busybox", "busybox", "latest", "docker.io"),
        ("localhost:5000/busybox:1.36", "localhost:5000/busybox", "1.36", "localhost:5000"),
        ("127.0.0.1:5000/a/b", "127.0.0.1:5000/a/b", "latest", "127.0.0.1:5000"),
        ("reg.example/x@sha256:" + "a" * 64, "reg.example/x", "sha256:" + "a" * 64, "reg.example"),
    ],
)
def test_references_split_as_the_api_wants_them(
    name: str, repository: str, version: str, registry: str
) -> None:
    ref = parse(name)
    assert (ref.repository, ref.version, ref.registry) == (repository, version, registry)


@pytest.mark.parametrize("name", ["", "Busybox", "busybox:", "a b"])
def test_bad_references_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="invalid reference format"):
        parse(name)
