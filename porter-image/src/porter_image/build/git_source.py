"""ADD's git sources, read as BuildKit's Dockerfile frontend reads them.

A source is a git repository when it is an `http(s)://` URL whose path ends in `.git`, a
`git://` or `ssh://` URL, or scp-like `user@host:path`; a fragment `#ref[:subdir]` picks a
branch, tag or full commit (the default branch without one) and a folder of it. BuildKit's
newer query form says the same with keys (`?ref=`, `?tag=`, `?branch=`, `?subdir=`), and more:
`?checksum=` a commit (or its leading digits) the ref must name, `?keep-git-dir=true`. A ref or
a subdir given twice (in the query and the fragment, or as two keys) is refused. The ref is
resolved to its commit with `git ls-remote` (a full commit is taken as it is), and that commit
is what the step's cache key holds: the same commit is a cache hit, a new commit on the branch
rebuilds. Only an uncached step fetches: a shallow fetch of the one commit into a temporary
folder of the build (a full fetch where the server cannot do shallow ones, as dumb HTTP), a
checkout (with its submodules) without `.git` unless `--keep-git-dir`, and the folder removed
whatever happened.
git runs from PATH, never asks for a password (ssh in batch mode) and reads nothing on stdin.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from porter_image.build.errors import BuildError

_SCHEME = re.compile(r"^([a-zA-Z0-9]+)://")
_SCP = re.compile(r"^[a-zA-Z0-9_-]+@[a-zA-Z0-9.-]+:(.*?)(?:#(.*))?$")
_COMMIT = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_REF = re.compile(r"^(?!-)(?!.*\.\.)[A-Za-z0-9._/+@-]+$")
_CHECKSUM = re.compile(r"^[0-9a-f]{1,64}$")
_QUERY_KEYS = ("ref", "tag", "branch", "subdir", "checksum", "keep-git-dir")
_CREDENTIALS = re.compile(r"(//[^/@:]*):[^/@]*@")
# what git adds to every failed connection, which says nothing about this one
_BOILERPLATE = (
    "Could not read from remote repository.",
    "Please make sure you have the correct access rights",
    "and the repository exists.",
)
TIMEOUT = 600


@dataclass(frozen=True)
class GitSource:
    """What one ADD source word names: the repository, the ref ("" for the default branch)
    and the folder of it to copy ("" for all of it)."""

    word: str
    remote: str
    ref: str
    subdir: str
    checksum: str = ""  # a commit, or its leading digits, that the ref must name
    keep_git_dir: bool = False
    problem: str = ""  # what is wrong with the word's query, for check_fragment to say

    @property
    def shown(self) -> str:
        """The repository's URL with any password in it hidden."""
        return hide_password(self.remote)


def hide_password(text: str) -> str:
    """`text` with the password of any URL in it replaced by xxxxx."""
    return _CREDENTIALS.sub(r"\1:xxxxx@", text)


@dataclass(frozen=True)
class Resolved:
    """The commit a source's ref names, and the full name of the ref to fetch it by."""

    commit: str
    ref: str


def parse_git_source(word: str) -> GitSource | None:
    """The git source an ADD source word names, or None when it names a local path or a
    plain download (an http(s) URL whose path does not end in `.git`)."""
    scheme = _SCHEME.match(word)
    remote, _, fragment = word.partition("#")
    if scheme:
        kind = scheme.group(1).lower()
        if kind not in ("http", "https", "git", "ssh"):
            return None
        if kind in ("http", "https") and not urlsplit(remote).path.endswith(".git"):
            return None
    elif not _SCP.match(word):
        return None
    remote, queried, query = remote.partition("?")
    ref, _, subdir = fragment.partition(":")
    source = GitSource(word, remote, ref, subdir)
    return _with_query(source, query) if queried else source


def _with_query(source: GitSource, query: str) -> GitSource:
    """`source` with what its query says, or with the problem that makes it unusable."""
    from urllib.parse import parse_qsl

    keys: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key not in _QUERY_KEYS:
            return replace(source, problem=f"unexpected query {key!r}")
        if key in keys:
            return replace(source, problem=f"query {key!r} given twice")
        keys[key] = value
    refs = [
        (f"{key}={keys[key]}", prefix + keys[key])
        for key, prefix in (("ref", ""), ("tag", "refs/tags/"), ("branch", "refs/heads/"))
        if key in keys
    ]
    if source.ref:
        refs.insert(0, ("the fragment", source.ref))
    if len(refs) > 1:
        return replace(source, problem=" and ".join(n for n, _ in refs) + " both name the ref")
    if source.subdir and "subdir" in keys:
        return replace(source, problem="the fragment and subdir= both name the folder")
    keep = keys.get("keep-git-dir", "false")
    if keep.lower() not in ("true", "false", "1", "0"):
        return replace(source, problem=f"keep-git-dir={keep}: not true or false")
    return replace(
        source,
        ref=refs[0][1] if refs else "",
        subdir=keys.get("subdir", source.subdir),
        checksum=keys.get("checksum", ""),
        keep_git_dir=keep.lower() in ("true", "1"),
    )


def check_fragment(source: GitSource, where: str) -> str:
    """The source's subdir, normalized ("" for the root); BuildError when the ref or the
    subdir is not one git or the checkout could take."""
    if source.problem:
        raise BuildError(where, f"{source.word}: bad query: {source.problem}")
    if source.checksum and not _CHECKSUM.match(source.checksum):
        raise BuildError(where, f"{source.word}: bad query: checksum is not a commit's digits")
    if source.ref and not _REF.match(source.ref):
        raise BuildError(where, f"{source.word}: bad fragment: {source.ref!r} is not a git ref")
    subdir = posixpath.normpath(source.subdir or ".").strip("/")
    if subdir == ".." or subdir.startswith("../"):
        raise BuildError(where, f"{source.word}: bad fragment: {source.subdir!r} leaves the repo")
    return "" if subdir == "." else subdir


def resolve_commit(source: GitSource, where: str) -> Resolved:
    """The commit the source's ref names now in the repository, and the full name of that
    ref to fetch (as BuildKit picks it: a full ref, then a branch, then a tag)."""
    resolved = _resolve(source, where)
    if not resolved.commit.startswith(source.checksum):
        raise BuildError(
            where,
            f"{source.shown}: {resolved.ref} is commit {resolved.commit}, "
            f"not the checksum {source.checksum}",
        )
    return resolved


def _resolve(source: GitSource, where: str) -> Resolved:
    if _COMMIT.match(source.ref):
        return Resolved(source.ref, source.ref)
    patterns = [source.ref, source.ref + "^{}"] if source.ref else ["HEAD"]
    listing = _git(["ls-remote", source.remote, *patterns], where, f"cannot reach {source.shown}")
    found = {}
    for line in listing.splitlines():
        commit, _, name = line.partition("\t")
        found[name] = commit
    ref = source.ref.removeprefix("refs/")
    tag = f"refs/tags/{ref.removeprefix('tags/')}"
    for name in (
        "HEAD" if not source.ref else f"refs/{ref}",
        f"refs/heads/{ref.removeprefix('heads/')}",
        tag,
    ):
        for peeled in ("^{}", ""):  # an annotated tag's commit, not the tag
            if _COMMIT.match(found.get(name + peeled, "")):
                return Resolved(found[name + peeled], name)
    raise BuildError(where, f"{source.shown}: no ref {source.ref or 'HEAD'!r} in the repository")


@contextlib.contextmanager
def checkout(
    source: GitSource, resolved: Resolved, keep_git_dir: bool, workspace: Path, where: str
) -> Iterator[Path]:
    """The source's tree at its resolved commit (its subdir, if it names one) in a temporary
    folder that is removed afterwards; with `keep_git_dir` and no subdir, `.git` is kept."""
    import shutil

    subdir = check_fragment(source, where)
    commit = resolved.commit
    folder = workspace / f"git-{uuid.uuid4().hex[:12]}"
    tree = folder / "tree"
    keep = keep_git_dir and not subdir
    git = ["--git-dir", str(tree / ".git" if keep else folder / "git"), "--work-tree", str(tree)]
    try:
        tree.mkdir(mode=0o755, parents=True)
        _git([*git, "init", "-q"], where, "cannot make a repository")
        _git([*git, "remote", "add", "origin", source.remote], where, "cannot add the remote")
        _fetch(git, source, resolved, where)
        _git([*git, "checkout", "-q", "--detach", commit], where, f"cannot check out {commit}")
        if (tree / ".gitmodules").is_file():
            _submodules(git, tree, keep, where)
        if keep:
            _git([*git, "remote", "set-url", "origin", source.shown], where, "cannot set the url")
            _git([*git, "reflog", "expire", "--all", "--expire=now"], where, "cannot expire")
            (tree / ".git" / "FETCH_HEAD").unlink(missing_ok=True)
        root = tree / subdir if subdir else tree
        if not root.is_dir() or root.is_symlink():
            raise BuildError(where, f"{source.word}: {subdir!r} is not a folder of {commit}")
        yield root
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _fetch(git: list[str], source: GitSource, resolved: Resolved, where: str) -> None:
    """Fetch the one commit: shallow where the server can, whole where it cannot."""
    fetch = [*git, "fetch", "-q", "--no-tags", "origin", resolved.ref]
    try:
        _git([*fetch[:-2], "--depth=1", *fetch[-2:]], where, "")
    except BuildError:
        _git(fetch, where, f"cannot fetch {resolved.ref} from {source.shown}")
    got = _git([*git, "rev-parse", "--verify", "FETCH_HEAD^{commit}"], where, "no commit")
    if got.strip() != resolved.commit:
        raise BuildError(where, f"{source.shown}: {resolved.ref} moved during the build")


def _submodules(git: list[str], tree: Path, keep: bool, where: str) -> None:
    """Check out the submodules too (as BuildKit does), shallow where the servers allow;
    without `keep`, the `.git` links they leave in the tree (into our temporary repository)
    are removed."""
    update = [*git, "submodule", "update", "--init", "--recursive"]
    try:
        _git([*update, "--depth=1"], where, "", cwd=tree)
    except BuildError:
        _git(update, where, "cannot check out the submodules", cwd=tree)
    if not keep:
        import shutil

        for link in list(tree.rglob(".git")):
            if link.is_dir() and not link.is_symlink():
                shutil.rmtree(link)
            else:
                link.unlink()


def _git(args: list[str], where: str, what: str, cwd: Path | None = None) -> str:
    """git's output; BuildError `what: git's error` (on one line) when it fails."""
    import subprocess

    env = {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_SSH_COMMAND": os.environ.get("GIT_SSH_COMMAND", "ssh -o BatchMode=yes"),
    }
    try:
        done = subprocess.run(
            ["git", *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd,
            timeout=TIMEOUT,
            umask=0o022,
        )
    except FileNotFoundError as exc:
        raise BuildError(where, "git sources need the git command, which is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise BuildError(where, f"{what}: git took more than {TIMEOUT} s") from exc
    if done.returncode != 0:
        lines = [line.strip().removeprefix("fatal: ") for line in done.stderr.splitlines()]
        lines = [line for line in lines if line and line not in _BOILERPLATE]
        reason = "; ".join(lines) or f"git exited with status {done.returncode}"
        reason = hide_password(reason)
        raise BuildError(where, f"{what}: {reason}")
    return done.stdout
