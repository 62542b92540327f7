"""ADD of a git repository (`ADD git://host/repo.git#ref:subdir /dest`), from a repository the
test makes and serves on 127.0.0.1; each test reads the image it built."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from build_support import NEEDS_ROOT, build_ok, run_build, unpack, write_context
from git_server_support import NEEDS_GIT, Repository, dumb_http, git_daemon
from porter_image.layout import Layout

pytestmark = [pytest.mark.integration, NEEDS_ROOT, NEEDS_GIT]


@pytest.fixture
def layout(busybox_image: tuple[Path, str], tmp_path: Path) -> Path:
    """A layout of this test's own holding the busybox image tagged `busybox`."""
    shutil.copytree(busybox_image[0], tmp_path / "layout")
    return tmp_path / "layout"


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    """A repository whose first commit holds a script, a symlink and a `sub` folder."""
    repository = Repository(tmp_path / "git")
    files = {"run.sh": "echo hi\n", "sub/inner.txt": "inner\n"}
    repository.commit(files, {"run.sh": 0o755})
    os.symlink("run.sh", repository.work / "link")
    repository.git("add", "link")
    repository.git("commit", "-q", "-m", "link")
    repository.git("tag", "-a", "v1", "-m", "v1")
    repository.publish("v1")
    return repository


@pytest.fixture
def git_url(repo: Repository) -> Iterator[str]:
    with git_daemon(repo.served) as base:
        yield f"{base}/repo.git"


def build_add(layout: Path, tmp_path: Path, instruction: str) -> str:
    """Build `FROM busybox` + `instruction`; the image's digest."""
    context = write_context(tmp_path / "context", {"Dockerfile": f"FROM busybox\n{instruction}\n"})
    return build_ok(layout, context)


def tree(root: Path) -> dict[str, tuple[int, int, int, str]]:
    """Each entry below `root`: mode, uid, gid and content (a symlink's target)."""
    entries = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        content = os.readlink(path) if path.is_symlink() else ""
        content = content or (path.read_text() if path.is_file() else "")
        entries[str(path.relative_to(root))] = (st.st_mode & 0o7777, st.st_uid, st.st_gid, content)
    return entries


def checked_out_commit(src: Path) -> str:
    """The commit the repository in the image's folder `src` has checked out."""
    git = ["git", "-c", f"safe.directory={src}", "-C", str(src), "rev-parse", "HEAD"]
    return subprocess.run(git, capture_output=True, text=True, check=True).stdout.strip()


def test_add_a_git_url_copies_the_tree_without_its_git_folder(
    layout: Path, tmp_path: Path, git_url: str
) -> None:
    build_add(layout, tmp_path, f"ADD {git_url} /src")
    assert tree(unpack(layout, "out", tmp_path) / "src") == {
        "link": (0o777, 0, 0, "run.sh"),
        "run.sh": (0o755, 0, 0, "echo hi\n"),
        "sub": (0o755, 0, 0, ""),
        "sub/inner.txt": (0o644, 0, 0, "inner\n"),
    }


def test_a_ref_and_subdir_over_dumb_http(layout: Path, tmp_path: Path, repo: Repository) -> None:
    repo.commit({"sub/inner.txt": "changed after v1\n", "sub/new": "new\n"})
    with dumb_http(repo.served) as base:
        build_add(layout, tmp_path, f"ADD {base}/repo.git#v1:sub /dest/")
    assert tree(unpack(layout, "out", tmp_path) / "dest") == {"inner.txt": (0o644, 0, 0, "inner\n")}


def test_a_full_commit_names_that_commit(
    layout: Path, tmp_path: Path, repo: Repository, git_url: str
) -> None:
    first = repo.git("rev-parse", "v1^{commit}")
    repo.commit({"run.sh": "echo later\n"})
    build_add(layout, tmp_path, f"ADD {git_url}#{first} /src")
    assert (unpack(layout, "out", tmp_path) / "src" / "run.sh").read_text() == "echo hi\n"


@pytest.mark.parametrize(
    "spelling", ["--keep-git-dir=true {url}#main", "{url}?branch=main&keep-git-dir=true"]
)
def test_keep_git_dir_keeps_a_repository_checked_out_at_the_commit(
    layout: Path, tmp_path: Path, repo: Repository, git_url: str, spelling: str
) -> None:
    build_add(layout, tmp_path, f"ADD {spelling.format(url=git_url)} /src")
    src = unpack(layout, "out", tmp_path) / "src"
    head = checked_out_commit(src)
    assert (head, (src / "run.sh").read_text()) == (repo.git("rev-parse", "HEAD"), "echo hi\n")


def test_chown_owns_the_tree(layout: Path, tmp_path: Path, git_url: str) -> None:
    build_add(layout, tmp_path, f"ADD --chown=1000:1001 {git_url} /src")
    entries = tree(unpack(layout, "out", tmp_path) / "src").values()
    owners = {(uid, gid) for _, uid, gid, _ in entries}
    assert owners == {(1000, 1001)}


def test_exclude_leaves_matching_files_of_the_repository_out(
    layout: Path, tmp_path: Path, git_url: str
) -> None:
    build_add(layout, tmp_path, f"ADD --exclude=*.sh --exclude=sub {git_url} /src")
    assert sorted(tree(unpack(layout, "out", tmp_path) / "src")) == ["link"]


def test_the_same_commit_is_cached_and_a_new_one_rebuilds(
    layout: Path, tmp_path: Path, repo: Repository, git_url: str
) -> None:
    first = build_add(layout, tmp_path, f"ADD {git_url}#main /src")
    again = build_add(layout, tmp_path, f"ADD {git_url}#main /src")
    repo.commit({"run.sh": "echo new\n"})
    changed = build_add(layout, tmp_path, f"ADD {git_url}#main /src")
    rebuilt = (unpack(layout, "out", tmp_path) / "src" / "run.sh").read_text()
    assert (again == first, changed != first, rebuilt) == (True, True, "echo new\n")


@pytest.mark.parametrize(
    ("fragment", "message"),
    [
        ("#nosuchbranch", "no ref 'nosuchbranch' in the repository"),
        ("#main:run.sh", "'run.sh' is not a folder of"),
        ("#main:nothing", "'nothing' is not a folder of"),
    ],
)
def test_a_ref_or_subdir_the_repository_lacks_is_one_line_and_no_tag(
    layout: Path, tmp_path: Path, git_url: str, fragment: str, message: str
) -> None:
    context = write_context(
        tmp_path / "context", {"Dockerfile": f"FROM busybox\nADD {git_url}{fragment} /src\n"}
    )
    result = run_build(layout, context)
    lines = result.stderr.strip().splitlines()
    assert (result.returncode, len(lines)) == (1, 1), result.stderr
    assert message in lines[0] and "Dockerfile:2: ADD: " in lines[0]
    assert "out" not in Layout.open(layout).tags()
    assert not list((layout / "porter-build").glob("tmp/*"))


@pytest.mark.parametrize(
    "query",
    ["?ref=v1&subdir=sub", "?tag=v1&subdir=/sub", "?subdir=sub#v1", "?ref=v1&checksum={v1}#:sub"],
    ids=str,
)
def test_the_query_form_picks_the_ref_and_subdir(
    layout: Path, tmp_path: Path, repo: Repository, git_url: str, query: str
) -> None:
    """The query names the ref and the folder, alone or beside the fragment; a checksum
    that the commit starts with lets the build go on."""
    v1 = repo.git("rev-parse", "v1^{commit}")[:12]
    repo.commit({"sub/inner.txt": "changed after v1\n"})
    build_add(layout, tmp_path, f"ADD {git_url}{query.format(v1=v1)} /dest/")
    assert tree(unpack(layout, "out", tmp_path) / "dest") == {"inner.txt": (0o644, 0, 0, "inner\n")}


def test_the_query_form_picks_a_branch_over_dumb_http(
    layout: Path, tmp_path: Path, repo: Repository
) -> None:
    repo.git("branch", "old")
    repo.commit({"run.sh": "echo later\n"})
    repo.publish("old")
    with dumb_http(repo.served) as base:
        build_add(layout, tmp_path, f"ADD {base}/repo.git?branch=old /src")
    assert (unpack(layout, "out", tmp_path) / "src" / "run.sh").read_text() == "echo hi\n"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?checksum=0000000", "HEAD is commit {commit}, not the checksum 0000000"),
        ("?ref=main#main", "bad query: the fragment and ref=main both name the ref"),
        ("?subdir=sub#:sub", "bad query: the fragment and subdir= both name the folder"),
    ],
)
def test_a_checksum_mismatch_or_a_ref_given_twice_is_one_line_and_no_tag(
    layout: Path, tmp_path: Path, repo: Repository, git_url: str, query: str, message: str
) -> None:
    dockerfile = f"FROM busybox\nADD {git_url}{query} /src\n"
    result = run_build(layout, write_context(tmp_path / "context", {"Dockerfile": dockerfile}))
    lines = result.stderr.strip().splitlines()
    assert (result.returncode, len(lines)) == (1, 1), result.stderr
    assert "Dockerfile:2: ADD: " in lines[0]
    assert lines[0].endswith(message.format(commit=repo.git("rev-parse", "main")))
    assert "out" not in Layout.open(layout).tags()


def test_submodules_are_checked_out_without_their_git_links(
    layout: Path, tmp_path: Path, repo: Repository, git_url: str
) -> None:
    library = Repository(tmp_path / "library")
    library.commit({"lib.txt": "from the submodule\n"})
    shutil.copytree(library.bare, repo.served / "library.git")
    library_url = git_url.replace("/repo.git", "/library.git")
    repo.git("submodule", "add", "-q", library_url, "vendor/library")
    repo.git("commit", "-q", "-m", "submodule")
    repo.publish()
    build_add(layout, tmp_path, f"ADD {git_url} /src")
    library_tree = tree(unpack(layout, "out", tmp_path) / "src" / "vendor" / "library")
    assert library_tree == {"lib.txt": (0o644, 0, 0, "from the submodule\n")}


def test_the_temporary_checkout_is_removed_when_the_step_fails(
    tmp_path: Path, repo: Repository, git_url: str
) -> None:
    from porter_image.build.errors import BuildError
    from porter_image.build.git_source import checkout, parse_git_source, resolve_commit

    source = parse_git_source(f"{git_url}#main:run.sh")
    assert source is not None
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    with (
        pytest.raises(BuildError, match="is not a folder of"),
        checkout(source, resolve_commit(source, "ADD"), False, workspace, "ADD"),
    ):
        pass
    assert list(workspace.iterdir()) == []
