"""Blob uploads: one PUT for small blobs; for large ones a PATCH that resumes after a drop.

A large blob is sent as one streamed PATCH (as docker and skopeo push). When the connection
drops, the session's status (`GET` on its location, `Range: 0-N`) says how much the registry
kept, and the next PATCH sends the rest from there (`Content-Range`). The final PUT names the
digest; the registry verifies it. Everything sent is read through a digest check of the
source, so a source blob that does not match its descriptor is never committed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, BinaryIO

from porter_specs.digest import CHUNK_SIZE, VerifyingReader
from porter_specs.models import Descriptor

from porter_image.distribution.errors import RegistryError, RegistryUnavailableError
from porter_image.distribution.response import count_of

if TYPE_CHECKING:
    from porter_image.distribution.repository import Repository

# Blobs up to this size go in a single PUT; larger ones by PATCH, resumable.
MONOLITHIC_LIMIT = 16 << 20
OCTET_STREAM = "application/octet-stream"


def held_bytes(range_header: str) -> int:
    """How many bytes an upload status `Range: 0-LAST` says are held (LAST is inclusive).

    `0-0` is what registries answer for an empty session as well as for one byte (CNCF
    distribution and porter-registry alike); it is read as empty, so that nothing is skipped.
    """
    _, _, last = range_header.partition("-")
    count = count_of(last)
    return count + 1 if count else 0


class SourceBody:
    """The source blob from `start` to its end, digest-checked, reporting bytes sent."""

    def __init__(
        self,
        open_source: Callable[[], BinaryIO],
        descriptor: Descriptor,
        start: int,
        progress: Callable[[int], None],
    ) -> None:
        self._source = open_source()
        what = f"source blob {descriptor.digest}"
        self._reader = VerifyingReader(self._source, descriptor.digest, descriptor.size, what)
        self._length = descriptor.size - start
        self._progress = progress
        skipped = 0
        while skipped < start:
            chunk = self._reader.read(min(CHUNK_SIZE, start - skipped))
            if not chunk:
                break
            skipped += len(chunk)

    def __len__(self) -> int:
        return self._length

    def read(self, n: int = -1) -> bytes:
        chunk = self._reader.read(max(n, CHUNK_SIZE) if n > 0 else n)
        if chunk:
            self._progress(len(chunk))
        return chunk

    def close(self) -> None:
        self._source.close()


class BlobUpload:
    """One blob pushed to one repository (see the module docstring)."""

    def __init__(
        self,
        repository: Repository,
        descriptor: Descriptor,
        open_source: Callable[[], BinaryIO],
        progress: Callable[[int], None],
    ) -> None:
        self.repository = repository
        self.client = repository.client
        self.descriptor = descriptor
        self.open_source = open_source
        self.progress = progress
        self.where = repository.where(f" upload of {descriptor.digest}")

    def run(self) -> None:
        """One upload session; a failed session is started again by the caller (the copy
        retries a blob as a whole), while a dropped PATCH resumes within this one."""
        self._once()

    def _once(self) -> None:
        location = self.repository.start_upload()
        if self.descriptor.size <= MONOLITHIC_LIMIT:
            self._finish(location, self._body(0), self.descriptor.size)
            return
        location = self._send_rest(location)
        self._finish(location, None, 0)

    def _body(self, start: int) -> Callable[[], SourceBody]:
        return lambda: SourceBody(self.open_source, self.descriptor, start, self.progress)

    def _send_rest(self, location: str) -> str:
        """PATCH the blob; after a dropped connection, resume where the registry says."""
        offset = 0
        for _ in range(self.client.options.retries + 1):
            try:
                return self._patch(location, offset)
            except RegistryUnavailableError:
                location, offset = self._status(location)
        return self._patch(location, offset)

    def _patch(self, location: str, offset: int) -> str:
        end = self.descriptor.size - 1
        headers = {"Content-Type": OCTET_STREAM, "Content-Range": f"{offset}-{end}"}
        headers["Content-Length"] = str(self.descriptor.size - offset)
        response = self.client.request(
            "PATCH",
            location,
            self.repository.push,
            headers=headers,
            body=self._body(offset),
            retries=0,
        )
        if response.status_code != 202:
            raise self.client.error(response, self.where)
        return self.repository.location(response) if "Location" in response.headers else location

    def _status(self, location: str) -> tuple[str, int]:
        """Where the session is and how many bytes the registry holds."""
        response = self.client.request("GET", location, self.repository.push)
        if response.status_code not in (200, 204):
            raise self.client.error(response, self.where)
        offset = held_bytes(response.headers.get("Range", ""))
        if offset > self.descriptor.size:
            raise RegistryError(self.where, f"registry reports {offset} bytes received")
        new = self.repository.location(response) if "Location" in response.headers else location
        return new, offset

    def _finish(self, location: str, body: Callable[[], SourceBody] | None, length: int) -> None:
        separator = "&" if "?" in location else "?"
        url = f"{location}{separator}digest={self.descriptor.digest}"
        headers = {"Content-Type": OCTET_STREAM, "Content-Length": str(length)}
        response = self.client.request(
            "PUT", url, self.repository.push, headers=headers, body=body, retries=0
        )
        if response.status_code not in (201, 204):
            raise self.client.error(response, self.where)
