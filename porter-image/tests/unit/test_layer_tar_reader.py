"""TarReader: ustar, PAX and GNU archives as other tools write them; clear errors otherwise."""

from __future__ import annotations

import io
import tarfile

import pytest
from porter_image.layer import LayerError
from porter_image.layer import tar_format as tf
from porter_image.layer.tar_reader import TarReader
from porter_image.layer.testing import archive, file


def _read(data: bytes) -> list[tuple[tf.TarEntry, bytes]]:
    reader = TarReader(iter([data[i : i + 700] for i in range(0, len(data), 700)]))
    return [(entry, b"".join(bytes(c) for c in reader.data())) for entry in reader.entries()]


def _tarfile(fmt: int, *infos: tuple[tarfile.TarInfo, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as tar:
        for info, data in infos:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _info(name: str, **fields: object) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    for key, value in fields.items():
        setattr(info, key, value)
    return info


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_reads_tarfile_archives(fmt: int) -> None:
    data = _tarfile(fmt, (_info("d/f", mode=0o640, uid=7, gid=8, mtime=99), b"hello"))
    [(entry, content)] = _read(data)
    assert (entry.name, entry.mode, entry.uid, entry.gid) == ("d/f", 0o640, 7, 8)
    assert entry.mtime_ns == 99 * 10**9 and content == b"hello"


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_long_names_and_link_names(fmt: int) -> None:
    name, target = "n/" * 80 + "file", "t/" * 90 + "target"
    data = _tarfile(
        fmt, (_info(name), b"x"), (_info("l", type=tarfile.SYMTYPE, linkname=target), b"")
    )
    entries = [entry for entry, _ in _read(data)]
    assert entries[0].name == name and entries[1].linkname == target


def test_ustar_prefix_field_is_joined_to_the_name() -> None:
    name = "p" * 120 + "/file"
    [(entry, _)] = _read(_tarfile(tarfile.USTAR_FORMAT, (_info(name), b"")))
    assert entry.name == name


def test_pax_times_xattrs_and_big_ids() -> None:
    info = _info(
        "f", uid=10**9, pax_headers={"mtime": "5.25", "atime": "7", "SCHILY.xattr.user.k": "v"}
    )
    [(entry, _)] = _read(_tarfile(tarfile.PAX_FORMAT, (info, b"")))
    assert entry.uid == 10**9
    assert (entry.mtime_ns, entry.atime_ns) == (5_250_000_000, 7_000_000_000)
    assert entry.xattrs == {"user.k": b"v"}


def test_global_pax_header_applies_to_later_entries() -> None:
    out = io.BytesIO()
    with tarfile.open(
        fileobj=out, mode="w", format=tarfile.PAX_FORMAT, pax_headers={"uid": "42"}
    ) as tar:
        tar.addfile(_info("a"), io.BytesIO(b""))
        tar.addfile(_info("b"), io.BytesIO(b""))
    assert [entry.uid for entry, _ in _read(out.getvalue())] == [42, 42]


def test_unread_data_is_skipped() -> None:
    reader = TarReader(iter([archive(file("a", b"x" * 3000), file("b", b"y"))]))
    assert [entry.name for entry in reader.entries()] == ["a", "b"]


def test_archive_without_end_marker_ends_cleanly_at_a_header() -> None:
    assert [e.name for e, _ in _read(archive(file("a", b"1"), end=False))] == ["a"]


def test_truncated_data_names_the_entry() -> None:
    data = archive(file("big", b"z" * 5000))
    with pytest.raises(LayerError, match="'big': tar stream is truncated"):
        _read(data[:2048])


def test_truncated_header_is_an_error() -> None:
    data = archive(file("a", b"1"), file("b", b"2"))
    with pytest.raises(LayerError, match="truncated"):
        _read(data[: 1024 + 100])


def test_bad_checksum_is_a_corrupt_header() -> None:
    data = bytearray(archive(file("a", b"1"), file("b", b"2")))
    data[1024 + 10] ^= 0xFF
    with pytest.raises(LayerError, match=r"corrupt tar header after entry 'a'.*checksum"):
        _read(bytes(data))


def test_not_a_tar_is_a_corrupt_header() -> None:
    with pytest.raises(LayerError, match="corrupt tar header"):
        _read(b"this is not a tar archive".ljust(1024, b"!"))


def test_sparse_entries_are_refused() -> None:
    entry, data = file("s")
    entry.type = "S"
    with pytest.raises(LayerError, match="'s': unsupported tar entry type 'S'"):
        _read(archive((entry, data)))


def test_oversized_metadata_record_is_refused() -> None:
    data = _tarfile(tarfile.GNU_FORMAT, (_info("x" * (2 << 20)), b""))
    with pytest.raises(LayerError, match="metadata record is too large"):
        _read(data)


def test_base256_numbers_are_read() -> None:
    assert tf.parse_number(b"\x80" + (2**40).to_bytes(7, "big")) == 2**40
    assert tf.parse_number(b"\xff" * 8) == -1
