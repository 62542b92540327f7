"""A spooled body that starts an upload session becomes its data by a link, not a copy."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from porter_registry.errors import RegistryError
from porter_registry.registry import Registry
from porter_registry.spool import SpooledBody, SpooledRequestBody, prepare_spool
from porter_registry.storage.filesystem import FilesystemDriver
from porter_specs.digest import Digest
from push_support import digest_of

DATA = bytes(range(256)) * 4096  # 1 MiB


def _spooled(data: Path, content: bytes) -> SpooledRequestBody:
    spool = SpooledBody(prepare_spool(data))
    spool.write(content)
    spool.seek(0)
    return SpooledRequestBody(spool)


def _blob_path(data: Path, content: bytes) -> Path:
    encoded = digest_of(content).split(":")[1]
    return data / "blobs/sha256" / encoded[:2] / encoded / "data"


def test_spooled_body_of_a_fresh_session_is_linked(registry: Registry, data: Path) -> None:
    body = _spooled(data, DATA)
    session = registry.start_upload("repo")
    registry.finish_upload("repo", session.upload_id, Digest.parse(digest_of(DATA)), body)
    blob = _blob_path(data, DATA)
    assert blob.read_bytes() == DATA
    assert blob.stat().st_ino == os.fstat(body.fileno()).st_ino


def test_spooled_body_after_a_first_chunk_is_copied(registry: Registry, data: Path) -> None:
    session = registry.start_upload("repo")
    registry.append_upload("repo", session.upload_id, [DATA[:1000]], 0, 1000)
    body = _spooled(data, DATA[1000:])
    registry.finish_upload("repo", session.upload_id, Digest.parse(digest_of(DATA)), body, 1000)
    blob = _blob_path(data, DATA)
    assert blob.read_bytes() == DATA
    assert blob.stat().st_ino != os.fstat(body.fileno()).st_ino


def test_linked_body_with_a_wrong_digest_is_refused(registry: Registry, data: Path) -> None:
    session = registry.start_upload("repo")
    with pytest.raises(RegistryError) as refused:
        registry.finish_upload(
            "repo", session.upload_id, Digest.parse(digest_of(b"other")), _spooled(data, DATA)
        )
    assert refused.value.error_code.code == "DIGEST_INVALID"
    assert not _blob_path(data, DATA).exists()


def test_linked_body_shorter_than_its_content_range_is_size_invalid(
    registry: Registry, data: Path
) -> None:
    session = registry.start_upload("repo")
    with pytest.raises(RegistryError) as refused:
        registry.append_upload("repo", session.upload_id, _spooled(data, DATA), 0, len(DATA) + 1)
    assert refused.value.error_code.code == "SIZE_INVALID"
    assert registry.upload_status("repo", session.upload_id).offset == 0


def test_session_resumes_after_a_linked_first_chunk(registry: Registry, data: Path) -> None:
    session = registry.start_upload("repo")
    status = registry.append_upload("repo", session.upload_id, _spooled(data, DATA[:5000]))
    assert status.offset == 5000
    registry.append_upload("repo", session.upload_id, [DATA[5000:]], 5000)
    registry.finish_upload("repo", session.upload_id, Digest.parse(digest_of(DATA)))
    assert _blob_path(data, DATA).read_bytes() == DATA


def test_link_file_across_filesystems_answers_false(tmp_path: Path) -> None:
    if not os.path.isdir("/dev/shm") or os.stat("/dev/shm").st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs /dev/shm on another filesystem than the test folder")
    driver = FilesystemDriver(tmp_path / "data")
    driver.put_content("target", b"before")
    with tempfile.TemporaryFile(dir="/dev/shm") as elsewhere:
        elsewhere.write(b"after")
        elsewhere.flush()
        assert driver.link_file(elsewhere.fileno(), "target") is False
    assert driver.get_content("target") == b"before"
