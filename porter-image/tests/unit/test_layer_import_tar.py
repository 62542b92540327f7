"""write_tar_stream: an existing tarball re-encoded as a clean, checked layer."""

from __future__ import annotations

import gzip
import io
import tarfile

import pytest
from porter_image.layer import HostileLayerError, write_tar_stream
from porter_image.layer.testing import archive, directory, file, hardlink, symlink


def _names(blob: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        return [m.name for m in tar.getmembers()]


def _import(data: bytes, compression: str = "none") -> bytes:
    out = io.BytesIO()
    write_tar_stream(io.BytesIO(data), out, compression)
    return out.getvalue()


def test_names_are_cleaned_and_the_root_dropped() -> None:
    data = archive(
        directory("./"),
        directory("./etc"),
        file("/etc/passwd", b"x"),
        hardlink("./p2", "/etc/passwd"),
    )
    assert _names(_import(data)) == ["etc", "etc/passwd", "p2"]
    assert _import(data)[:4] == b"etc/"


def test_owner_names_are_dropped() -> None:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        info = tarfile.TarInfo("f")
        info.uname, info.gname, info.uid = "alice", "staff", 501
        tar.addfile(info)
    with tarfile.open(fileobj=io.BytesIO(_import(out.getvalue()))) as tar:
        (member,) = tar.getmembers()
    assert (member.uname, member.gname, member.uid) == ("", "", 501)


def test_compressed_input_is_detected() -> None:
    data = archive(file("a", b"1"))
    assert _names(_import(gzip.compress(data))) == ["a"]


def test_result_digests_match_the_output() -> None:
    out = io.BytesIO()
    result = write_tar_stream(io.BytesIO(archive(file("a", b"1"))), out, "gzip")
    assert result.size == len(out.getvalue())


def test_same_input_gives_the_same_layer() -> None:
    data = archive(file("a", b"1"), symlink("b", "a"))
    assert _import(data, "gzip") == _import(data, "gzip")


@pytest.mark.parametrize(
    "members",
    [
        [file("../escape")],
        [hardlink("h", "../../etc/shadow")],
        [symlink("evil", "/etc"), file("evil/passwd")],
        [symlink("evil", "/etc"), hardlink("h", "evil/shadow")],
    ],
    ids=["dot-dot", "hardlink out", "write through own symlink", "hardlink through own symlink"],
)
def test_hostile_entries_are_refused(members) -> None:
    with pytest.raises(HostileLayerError):
        _import(archive(*members))
