"""Which ADD sources are git repositories, and what their fragments and queries say
(BuildKit's rules)."""

from __future__ import annotations

import re

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
        ("https://h/r.git?ref=v1.0&subdir=docs", "https://h/r.git", "v1.0", "docs"),
        ("https://h/r.git?tag=v1", "https://h/r.git", "refs/tags/v1", ""),
        ("git://h/r.git?branch=dev", "git://h/r.git", "refs/heads/dev", ""),
        ("https://h/r.git?subdir=/docs#v2", "https://h/r.git", "v2", "/docs"),
        ("git@h:o/r.git?branch=dev#:sub", "git@h:o/r.git", "refs/heads/dev", "sub"),
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


def test_the_query_form_takes_a_checksum_and_keep_git_dir() -> None:
    source = parse_git_source("https://h/r.git?checksum=0a1b2c&keep-git-dir=true")
    assert source is not None and (source.checksum, source.keep_git_dir) == ("0a1b2c", True)


def test_a_query_on_a_plain_download_leaves_it_a_download() -> None:
    assert parse_git_source("https://h/file.tar.gz?ref=v1") is None


@pytest.mark.parametrize(
    ("word", "message"),
    [
        ("https://h/r.git?ref=v1#v2", "bad query: the fragment and ref=v1 both name the ref"),
        ("https://h/r.git?ref=v1&tag=v2", "bad query: ref=v1 and tag=v2 both name the ref"),
        ("https://h/r.git?tag=v1&branch=b", "bad query: tag=v1 and branch=b both name the ref"),
        ("https://h/r.git?subdir=a#:b", "bad query: the fragment and subdir= both name the"),
        ("https://h/r.git?invalid=1", "bad query: unexpected query 'invalid'"),
        ("https://h/r.git?ref=a&ref=b", "bad query: query 'ref' given twice"),
        ("https://h/r.git?keep-git-dir=yes", "bad query: keep-git-dir=yes: not true or false"),
        ("https://h/r.git?checksum=v1", "bad query: checksum is not a commit's digits"),
        ("https://h/r.git?subdir=../up", "'../up' leaves the repo"),
    ],
)
def test_a_bad_query_is_refused(word: str, message: str) -> None:
    source = parse_git_source(word)
    assert source is not None
    with pytest.raises(BuildError, match=re.escape(message)):
        check_fragment(source, "Dockerfile:2: ADD")
