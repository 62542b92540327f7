"""Digests as the image-spec defines them: parse, compute while streaming, verify."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from porter_specs.errors import DigestMismatchError, InvalidDigestError, SizeMismatchError

CHUNK_SIZE = 1 << 20

# fullmatch, not `$`: a `$` would let a trailing newline through.
_GRAMMAR = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")
_REGISTERED = {
    "sha256": re.compile(r"[a-f0-9]{64}"),
    "sha512": re.compile(r"[a-f0-9]{128}"),
}
SUPPORTED_ALGORITHMS = tuple(_REGISTERED)
CANONICAL_ALGORITHM = "sha256"


@dataclass(frozen=True, order=True)
class Digest:
    """A validated `algorithm:encoded` digest."""

    algorithm: str
    encoded: str

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.encoded}"

    @classmethod
    def parse(cls, value: str) -> Digest:
        """Parse a digest string, refusing anything outside the grammar or an unknown algorithm."""
        if not isinstance(value, str) or not _GRAMMAR.fullmatch(value):
            raise InvalidDigestError(str(value), "does not match algorithm:encoded")
        algorithm, encoded = value.split(":", 1)
        pattern = _REGISTERED.get(algorithm)
        if pattern is None:
            raise InvalidDigestError(value, f"unsupported algorithm {algorithm!r}")
        if not pattern.fullmatch(encoded):
            raise InvalidDigestError(value, f"encoded part is not a valid {algorithm} hex string")
        return cls(algorithm, encoded)


def is_digest(value: object) -> bool:
    """True when `value` is a well-formed digest of a supported algorithm."""
    try:
        Digest.parse(value)  # type: ignore[arg-type]
    except InvalidDigestError:
        return False
    return True


class Digester:
    """Hashes content as it streams past, counting its size."""

    def __init__(self, algorithm: str = CANONICAL_ALGORITHM) -> None:
        if algorithm not in _REGISTERED:
            raise InvalidDigestError(f"{algorithm}:", f"unsupported algorithm {algorithm!r}")
        self.algorithm = algorithm
        self._hash = hashlib.new(algorithm)
        self.size = 0

    def update(self, chunk: bytes | bytearray | memoryview) -> None:
        self._hash.update(chunk)
        self.size += len(chunk)

    def digest(self) -> Digest:
        return Digest(self.algorithm, self._hash.hexdigest())


def from_bytes(data: bytes, algorithm: str = CANONICAL_ALGORITHM) -> Digest:
    """The digest of an in-memory document (manifests, configs)."""
    return Digest(algorithm, hashlib.new(algorithm, data).hexdigest())


def from_chunks(
    chunks: Iterable[bytes], algorithm: str = CANONICAL_ALGORITHM
) -> tuple[Digest, int]:
    """The digest and size of content given as chunks."""
    digester = Digester(algorithm)
    for chunk in chunks:
        digester.update(chunk)
    return digester.digest(), digester.size


def read_chunks(stream: BinaryIO, chunk_size: int = CHUNK_SIZE) -> Iterable[bytes]:
    """Yield a stream's content in bounded chunks."""
    while chunk := stream.read(chunk_size):
        yield chunk


def from_stream(stream: BinaryIO, algorithm: str = CANONICAL_ALGORITHM) -> tuple[Digest, int]:
    """The digest and size of a stream read to its end in bounded chunks."""
    return from_chunks(read_chunks(stream), algorithm)


def check(
    expected: Digest | str,
    actual: Digest,
    size: int | None = None,
    actual_size: int | None = None,
    what: str = "content",
) -> None:
    """Raise when content's digest (or size, when both are known) differs from the promise."""
    expected_digest = Digest.parse(expected) if isinstance(expected, str) else expected
    if size is not None and actual_size is not None and size != actual_size:
        raise SizeMismatchError(size, actual_size, what)
    if expected_digest != actual:
        raise DigestMismatchError(str(expected_digest), str(actual), what)


class VerifyingReader:
    """A file-like reader that hashes what passes and checks digest and size at the end.

    `read()` raises `DigestMismatchError`/`SizeMismatchError` when the stream ends with content
    that is not what was promised, so a consumer never commits unverified bytes.
    """

    def __init__(
        self,
        stream: BinaryIO,
        expected: Digest | str,
        size: int | None = None,
        what: str = "content",
    ) -> None:
        self._stream = stream
        self.expected = Digest.parse(expected) if isinstance(expected, str) else expected
        self._size = size
        self._what = what
        self._digester = Digester(self.expected.algorithm)
        self._done = False

    def read(self, n: int | None = -1) -> bytes:
        n = -1 if n is None else n
        if self._size is not None and n != 0:
            # Ask for one byte past the promise, so that oversize content is seen.
            remaining = self._size - self._digester.size + 1
            n = remaining if n < 0 else min(n, remaining)
        chunk = self._stream.read(n)
        if chunk:
            self._digester.update(chunk)
            if self._size is not None and self._digester.size > self._size:
                raise SizeMismatchError(self._size, self._digester.size, self._what)
            if self._digester.size == self._size:
                # The last promised byte: refuse wrong content before the consumer uses it.
                check(self.expected, self._digester.digest(), what=self._what)
        elif not self._done and n != 0:
            self._done = True
            check(
                self.expected, self._digester.digest(), self._size, self._digester.size, self._what
            )
        return chunk

    def verify(self) -> None:
        """Read what is left (discarding it) and check digest and size.

        For consumers that stop before the end (a tar reader stops at its end-of-archive
        blocks): without this, trailing or missing bytes would go unnoticed.
        """
        while self.read(CHUNK_SIZE):
            pass

    @property
    def bytes_read(self) -> int:
        return self._digester.size
