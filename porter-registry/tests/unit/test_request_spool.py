"""waitress spools large request bodies into the data folder, hashing them as they arrive."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from porter_registry.spool import SpooledBody, prepare_spool, spooled_body, spooling_parser
from waitress.adjustments import Adjustments

BODY = hashlib.sha256(b"spool").digest() * 8192  # 256 KiB


def _parse(folder: str, body: bytes, overflow: int) -> object:
    """The WSGI input waitress would hand the app for a PUT carrying `body`."""
    parser = spooling_parser(folder)(Adjustments(inbuf_overflow=overflow))
    request = b"PUT /v2/r/blobs/uploads/x HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % len(body)
    stream = request + body
    while stream and not parser.completed:
        stream = stream[parser.received(stream[:65536]) :]
    assert parser.completed and parser.error is None
    return parser.get_body_stream()


def test_large_body_is_spooled_in_the_data_folder_with_its_sha256(tmp_path: Path) -> None:
    folder = prepare_spool(tmp_path / "data")
    stream = _parse(folder, BODY, overflow=16384)
    assert isinstance(stream, SpooledBody)
    assert os.fstat(stream.fileno()).st_dev == os.stat(folder).st_dev
    assert stream.read() == BODY
    assert stream.sha256().hexdigest() == hashlib.sha256(BODY).hexdigest()


def test_small_body_stays_in_memory(tmp_path: Path) -> None:
    stream = _parse(prepare_spool(tmp_path / "data"), b"tiny", overflow=16384)
    assert not isinstance(stream, SpooledBody)
    assert spooled_body(stream) is None


def test_spool_leaves_no_file_in_the_folder(tmp_path: Path) -> None:
    folder = prepare_spool(tmp_path / "data")
    stream = _parse(folder, BODY, overflow=16384)
    assert os.listdir(folder) == []
    stream.close()


def test_write_before_the_end_makes_the_hash_unknown(tmp_path: Path) -> None:
    spool = SpooledBody(prepare_spool(tmp_path / "data"))
    spool.write(b"abcdef")
    spool.seek(2)
    spool.write(b"XY")
    assert spool.sha256() is None


def test_spool_already_read_is_not_offered_whole(tmp_path: Path) -> None:
    spool = SpooledBody(prepare_spool(tmp_path / "data"))
    spool.write(BODY)
    spool.seek(0)
    assert spooled_body(spool) is not None
    spool.read(10)
    assert spooled_body(spool) is None


def test_prepare_spool_empties_leftovers(tmp_path: Path) -> None:
    folder = Path(prepare_spool(tmp_path / "data"))
    (folder / ".tmp-leftover").write_bytes(b"x")
    prepare_spool(tmp_path / "data")
    assert list(folder.iterdir()) == []
