"""Digests of context files remembered by their inode's stat: a file is read again exactly
when it may have changed."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

import pytest
from porter_image.build import file_digests
from porter_image.build.context import BuildContext
from porter_image.build.file_digests import MIN_SIZE, FileDigests


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files whose bytes were read (hashed), in order."""
    seen: list[Path] = []
    real = file_digests.hash_file

    def spy(path: Path) -> bytes:
        seen.append(path)
        return real(path)

    monkeypatch.setattr(file_digests, "hash_file", spy)
    return seen


def big_file(path: Path, fill: bytes = b"a") -> Path:
    path.write_bytes(fill * MIN_SIZE)
    return path


def digest_twice(memo: Path, path: Path, settled_ns: int = 0) -> tuple[bytes, bytes]:
    """The digest from a first memo (then saved) and from a second one, as two builds see it."""
    first = FileDigests(memo, settled_ns)
    one = first.digest(path, os.lstat(path))
    first.save()
    two = FileDigests(memo, settled_ns).digest(path, os.lstat(path))
    return one, two


def test_an_unchanged_file_is_read_once_across_builds(tmp_path: Path, reads: list[Path]) -> None:
    path = big_file(tmp_path / "f")
    one, two = digest_twice(tmp_path / "memo", path)
    assert one == two == hashlib.sha256(path.read_bytes()).digest()
    assert reads == [path]


def test_a_rewritten_file_with_its_mtime_put_back_is_read_again(
    tmp_path: Path, reads: list[Path]
) -> None:
    path = big_file(tmp_path / "f")
    memo = FileDigests(tmp_path / "memo", 0)
    memo.digest(path, os.lstat(path))
    memo.save()
    before = os.lstat(path)
    time.sleep(0.05)  # past the tick of the kernel's coarse clock, which stamps ctime
    big_file(path, b"b")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = FileDigests(tmp_path / "memo", 0).digest(path, os.lstat(path))
    assert after == hashlib.sha256(b"b" * MIN_SIZE).digest()
    assert len(reads) == 2


def test_a_file_changed_within_the_settling_time_is_not_remembered(
    tmp_path: Path, reads: list[Path]
) -> None:
    path = big_file(tmp_path / "f")
    digest_twice(tmp_path / "memo", path, settled_ns=3600 * 10**9)
    assert reads == [path, path]


def test_small_files_are_always_read(tmp_path: Path, reads: list[Path]) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"a" * (MIN_SIZE - 1))
    digest_twice(tmp_path / "memo", path)
    assert reads == [path, path]


def test_a_memo_that_is_not_json_is_ignored(tmp_path: Path, reads: list[Path]) -> None:
    path = big_file(tmp_path / "f")
    file = FileDigests(tmp_path / "memo").memo_file(str(tmp_path))
    file.parent.mkdir(parents=True)
    file.write_text("{not json")
    digest = FileDigests(tmp_path / "memo", 0).digest(path, os.lstat(path))
    assert digest == hashlib.sha256(path.read_bytes()).digest()


def test_entries_of_removed_files_are_dropped_when_the_memo_is_rewritten(tmp_path: Path) -> None:
    gone, kept = big_file(tmp_path / "gone"), big_file(tmp_path / "kept")
    memo = FileDigests(tmp_path / "memo", 0)
    memo.digest(gone, os.lstat(gone))
    memo.save()
    gone.unlink()
    memo = FileDigests(tmp_path / "memo", 0)
    memo.digest(kept, os.lstat(kept))
    memo.save()
    assert set(FileDigests(tmp_path / "memo").entries(tmp_path)) == {"kept"}


def test_a_context_digest_is_the_same_with_and_without_the_memo(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    big_file(tmp_path / "src" / "big")
    (tmp_path / "src" / "small").write_text("small")
    context = BuildContext(tmp_path)
    sources = context.resolve("src", "test")
    memo = FileDigests(tmp_path / "memo", 0)
    with_memo = context.digest(sources, memo)
    memo.save()
    assert context.digest(sources, FileDigests(tmp_path / "memo", 0)) == with_memo
    assert context.digest(sources) == with_memo


def test_each_folder_keeps_its_files_entries_apart(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one, two = big_file(tmp_path / "a" / "f"), big_file(tmp_path / "b" / "f")
    memo = FileDigests(tmp_path / "memo", 0)
    memo.digest(one, os.lstat(one))
    memo.digest(two, os.lstat(two))
    memo.save()
    assert memo.memo_file(str(tmp_path / "a")) != memo.memo_file(str(tmp_path / "b"))
    assert list(memo.entries(tmp_path / "a")) == list(memo.entries(tmp_path / "b")) == ["f"]


def test_a_folder_let_go_of_while_walking_is_saved_and_read_back(
    tmp_path: Path, reads: list[Path]
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one, two = big_file(tmp_path / "a" / "f"), big_file(tmp_path / "b" / "f")
    memo = FileDigests(tmp_path / "memo", 0, folders=1)
    for path in (one, two, one, two):
        memo.digest(path, os.lstat(path))
    assert reads == [one, two]


def remembered_folders(memo: Path, *folders: Path) -> FileDigests:
    """A memo that remembered a large file in each of `folders` (made), saved."""
    digests = FileDigests(memo, 0)
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        path = big_file(folder / "f")
        digests.digest(path, os.lstat(path))
    digests.save()
    return digests


def memo_files(memo: Path) -> list[Path]:
    return sorted(memo.glob("??/*.json"))


def test_a_prune_removes_the_memos_of_folders_that_are_gone(tmp_path: Path) -> None:
    gone, kept = tmp_path / "gone", tmp_path / "kept"
    digests = remembered_folders(tmp_path / "memo", gone, kept)
    shutil.rmtree(gone)
    assert digests.prune() == [str(gone)]
    assert memo_files(tmp_path / "memo") == [digests.memo_file(str(kept))]


def test_a_live_folders_memo_still_gives_hits_after_a_prune(
    tmp_path: Path, reads: list[Path]
) -> None:
    remembered_folders(tmp_path / "memo", tmp_path / "kept").prune()
    path = tmp_path / "kept" / "f"
    FileDigests(tmp_path / "memo", 0).digest(path, os.lstat(path))
    assert reads == [path]


def test_a_limited_prune_goes_on_where_the_last_one_stopped(tmp_path: Path) -> None:
    folders = [tmp_path / f"gone{i}" for i in range(7)]
    remembered_folders(tmp_path / "memo", *folders, tmp_path / "kept")
    for folder in folders:
        shutil.rmtree(folder)
    removed = [gone for _ in range(3) for gone in FileDigests(tmp_path / "memo").prune(3)]
    assert sorted(removed) == sorted(map(str, folders))
    assert len(memo_files(tmp_path / "memo")) == 1


def test_builds_at_new_paths_leave_only_the_memos_of_the_last_one(tmp_path: Path) -> None:
    """As CI does: each build hashes more folders than a prune checks by itself, in a
    checkout at a new path removed afterwards."""
    for build in range(4):
        checkout = tmp_path / f"checkout{build}"
        folders = [checkout / str(i) for i in range(file_digests.PRUNED + 8)]
        digests = FileDigests(tmp_path / "memo", 0)
        for folder in folders:
            folder.mkdir(parents=True)
            path = big_file(folder / "f")
            digests.digest(path, os.lstat(path))
        digests.close()
        shutil.rmtree(checkout)
    assert len(memo_files(tmp_path / "memo")) == file_digests.PRUNED + 8


def test_a_memo_that_names_no_folder_is_pruned(tmp_path: Path) -> None:
    file = FileDigests(tmp_path / "memo").memo_file(str(tmp_path))
    file.parent.mkdir(parents=True)
    file.write_text('{"f": [1, 2, 3, 4, 5, "00"]}')  # as memos were before they named it
    FileDigests(tmp_path / "memo").prune()
    assert not file.exists()


def test_the_single_memo_file_of_before_is_removed_by_a_prune(tmp_path: Path) -> None:
    (tmp_path / "memo.json").write_text("{}")
    FileDigests(tmp_path / "memo").prune(1)
    assert not (tmp_path / "memo.json").exists()


def test_close_returns_a_failed_prune_instead_of_raising_it(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    digests = remembered_folders(tmp_path / "memo", gone)
    shutil.rmtree(gone)
    (tmp_path / "memo" / file_digests.CURSOR).mkdir()  # the cursor cannot be written
    assert isinstance(digests.close(), IsADirectoryError)
    assert memo_files(tmp_path / "memo") == []  # what it removed before stays removed


def test_close_returns_a_memo_that_could_not_be_written_and_saves_the_others(
    tmp_path: Path,
) -> None:
    memo = FileDigests(tmp_path / "memo")
    blocked = tmp_path / "blocked"
    shard = memo.memo_file(str(blocked)).parent
    kept = next(  # a folder whose memo is in another shard
        folder
        for folder in (tmp_path / f"kept{i}" for i in range(9))
        if memo.memo_file(str(folder)).parent != shard
    )
    shard.parent.mkdir()
    shard.write_bytes(b"")  # a file where the memo's folder would be made
    digests = FileDigests(tmp_path / "memo", 0)
    for folder in (blocked, kept):
        folder.mkdir()
        path = big_file(folder / "f")
        digests.digest(path, os.lstat(path))
    assert isinstance(digests.close(), FileExistsError)
    assert list(digests.entries(kept)) == ["f"]
