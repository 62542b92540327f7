import os
import stat
from pathlib import Path

import pytest
from porter_image.layout.atomic import atomic_writer, write_file_atomic


def test_a_streamed_file_replaces_the_target_when_the_block_ends(tmp_path: Path) -> None:
    target = tmp_path / "out.tar"
    target.write_bytes(b"old")
    with atomic_writer(target) as out:
        out.write(b"new ")
        out.write(b"content")
        assert target.read_bytes() == b"old"
    assert target.read_bytes() == b"new content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.tar"]


def test_a_failed_stream_keeps_the_old_file_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "out.tar"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_writer(target) as out:
        out.write(b"half")
        raise RuntimeError("writer failed")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.tar"]


def test_write_file_atomic_writes_the_bytes_readable_by_all(tmp_path: Path) -> None:
    write_file_atomic(tmp_path / "index.json", b"{}")
    assert (tmp_path / "index.json").read_bytes() == b"{}"
    assert (tmp_path / "index.json").stat().st_mode & 0o777 == 0o644


def test_a_private_file_has_its_mode_before_it_takes_the_target_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    modes_at_rename = []
    replace = os.replace

    def watching_replace(src: str, dst: Path) -> None:
        modes_at_rename.append(stat.S_IMODE(os.stat(src).st_mode))
        replace(src, dst)

    monkeypatch.setattr(os, "replace", watching_replace)
    write_file_atomic(tmp_path / "config.json", b"{}", mode=0o600)
    assert modes_at_rename == [0o600]
    assert stat.S_IMODE((tmp_path / "config.json").stat().st_mode) == 0o600
