"""Which ADD sources are git repositories, and what their fragments say (BuildKit's rules)."""

from __future__ import annotations

import pytest
from porter_image.build.errors import BuildError
from porter_image.build.git_source import GitSource, check_fragment, parse_git_source


@pytest.mark.parametrize(
    ("word", "remote", "ref", "subdir"),
    [
        ("https://host/org/repo.git", "https://host/org/repo.git", "", ""),
        ("http://host/repo.git#v1.2:docs/api", "http://host/repo.git", "v1.2", "docs/api"),
        ("git://127.0.0.1:9418/repo.git#main", "git://127.0.0.1:9418/repo.git", "main", ""),
        ("ssh://git@host:2222/repo#:sub", "ssh://git@host:2222/repo", "", "sub"),
        ("git@github.com:org/repo.git#dev", "git@github.com:org/repo.git", "dev", ""),
        ("GIT://host/repo", "GIT://host/repo", "", ""),
    ],
)
def test_a_git_source_splits_into_remote_ref_and_subdir(
    word: str, remote: str, ref: str, subdir: str
) -> None:
    assert parse_git_source(word) == GitSource(word, remote, ref, subdir)


@pytest.mark.parametrize(
    "word",
    [
        "https://host/file.tar.gz",  # a download: http(s) is git only with a .git path
        "https://host/repo.git/file.txt",
        "s3://bucket/repo.git",
        "src/repo.git",
        "./user@host:path",
        "file:///srv/repo.git",
    ],
)
def test_other_sources_are_not_git(word: str) -> None:
    assert parse_git_source(word) is None


def test_the_subdir_is_normalized() -> None:
    source = parse_git_source("git://h/r.git#main:/docs/./api/")
    assert source is not None and check_fragment(source, "ADD") == "docs/api"


@pytest.mark.parametrize(
    ("word", "message"),
    [
        ("git://h/r.git#main:../up", "bad fragment: '../up' leaves the repo"),
        ("git://h/r.git#main:a/../../up", "bad fragment: 'a/../../up' leaves the repo"),
        ("git://h/r.git#--upload-pack=x", "bad fragment: '--upload-pack=x' is not a git ref"),
        ("git://h/r.git#a..b", "bad fragment: 'a..b' is not a git ref"),
        ("git://h/r.git#a b", "bad fragment: 'a b' is not a git ref"),
    ],
)
def test_a_bad_fragment_is_refused(word: str, message: str) -> None:
    source = parse_git_source(word)
    assert source is not None
    with pytest.raises(BuildError, match=message):
        check_fragment(source, "Dockerfile:2: ADD")


def test_a_password_in_the_url_is_not_shown() -> None:
    source = parse_git_source("https://user:secret@host/repo.git")
    assert source is not None and source.shown == "https://user:xxxxx@host/repo.git"
