"""Digests: the image-spec's grammar, streaming computation, verification."""

from __future__ import annotations

import hashlib
import io

import pytest
from porter_specs import digest
from porter_specs.digest import Digest, VerifyingReader
from porter_specs.errors import DigestMismatchError, InvalidDigestError, SizeMismatchError

CONTENT = b"hello, porter\n" * 1000
SHA256 = "sha256:" + hashlib.sha256(CONTENT).hexdigest()
SHA512 = "sha512:" + hashlib.sha512(CONTENT).hexdigest()


def test_a_sha256_digest_parses_into_algorithm_and_encoded():
    parsed = Digest.parse(SHA256)
    assert (parsed.algorithm, parsed.encoded) == ("sha256", SHA256[7:])


def test_a_digest_prints_as_it_was_parsed():
    assert str(Digest.parse(SHA512)) == SHA512


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("sha256", "does not match algorithm:encoded"),
        ("SHA256:" + "a" * 64, "does not match algorithm:encoded"),
        ("sha256:" + "a" * 64 + "\n", "does not match algorithm:encoded"),
        ("md5:" + "a" * 32, "unsupported algorithm 'md5'"),
        ("sha256:" + "a" * 63, "encoded part is not a valid sha256 hex string"),
        ("sha256:" + "A" * 64, "encoded part is not a valid sha256 hex string"),
        ("sha512:" + "a" * 64, "encoded part is not a valid sha512 hex string"),
    ],
    ids=[
        "no-colon",
        "upper-case-algorithm",
        "trailing-newline",
        "md5",
        "short",
        "upper-hex",
        "sha512-of-sha256-length",
    ],
)
def test_a_malformed_digest_is_refused_with_its_reason(value, reason):
    with pytest.raises(InvalidDigestError) as caught:
        Digest.parse(value)
    assert caught.value.reason == reason
    assert repr(value) in str(caught.value)


def test_is_digest_answers_without_raising():
    assert digest.is_digest(SHA256) and not digest.is_digest("sha256:nope")
    assert not digest.is_digest(None)


def test_from_bytes_and_from_stream_agree():
    streamed, size = digest.from_stream(io.BytesIO(CONTENT))
    assert (streamed, size) == (digest.from_bytes(CONTENT), len(CONTENT))


def test_a_stream_is_hashed_in_bounded_chunks():
    chunks = list(digest.read_chunks(io.BytesIO(CONTENT), chunk_size=1000))
    assert {len(c) for c in chunks} == {1000} and b"".join(chunks) == CONTENT


def test_from_chunks_computes_sha512_too():
    assert str(digest.from_chunks([CONTENT[:7], CONTENT[7:]], "sha512")[0]) == SHA512


def test_an_unsupported_algorithm_cannot_be_computed():
    with pytest.raises(InvalidDigestError):
        digest.Digester("md5")


def test_check_refuses_a_size_mismatch_before_the_digest():
    with pytest.raises(SizeMismatchError):
        digest.check(SHA256, digest.from_bytes(b"x"), size=len(CONTENT), actual_size=1)


def test_check_refuses_a_digest_mismatch_naming_both():
    with pytest.raises(DigestMismatchError) as caught:
        digest.check(SHA256, digest.from_bytes(b"x"), what="blob")
    assert str(caught.value).startswith(f"blob: digest mismatch: expected {SHA256}, got sha256:")


def _drain(reader: VerifyingReader, chunk: int = 4096) -> bytes:
    out = bytearray()
    while data := reader.read(chunk):
        out += data
    return bytes(out)


def test_verifying_reader_passes_through_content_that_matches():
    reader = VerifyingReader(io.BytesIO(CONTENT), SHA256, len(CONTENT))
    assert _drain(reader) == CONTENT and reader.bytes_read == len(CONTENT)


def test_verifying_reader_refuses_truncated_content():
    reader = VerifyingReader(io.BytesIO(CONTENT[:-1]), SHA256, len(CONTENT))
    with pytest.raises(SizeMismatchError) as caught:
        _drain(reader)
    assert (caught.value.expected, caught.value.actual) == (len(CONTENT), len(CONTENT) - 1)


def test_verifying_reader_refuses_oversize_content_without_reading_it_all():
    stream = io.BytesIO(CONTENT + b"x" * 10_000)
    reader = VerifyingReader(stream, SHA256, len(CONTENT))
    with pytest.raises(SizeMismatchError):
        _drain(reader)
    assert stream.tell() == len(CONTENT) + 1


def test_verifying_reader_refuses_content_of_the_right_size_but_wrong_digest():
    altered = b"J" + CONTENT[1:]
    reader = VerifyingReader(io.BytesIO(altered), SHA256, len(CONTENT))
    with pytest.raises(DigestMismatchError):
        _drain(reader)


def test_verifying_reader_refuses_a_mismatch_on_the_last_promised_byte():
    reader = VerifyingReader(io.BytesIO(b"J" + CONTENT[1:]), SHA256, len(CONTENT))
    with pytest.raises(DigestMismatchError):
        reader.read(len(CONTENT))


def test_verifying_reader_without_size_checks_the_digest_at_the_end():
    reader = VerifyingReader(io.BytesIO(CONTENT + b"!"), SHA256)
    with pytest.raises(DigestMismatchError):
        _drain(reader)


def test_verify_catches_trailing_bytes_a_consumer_never_read():
    reader = VerifyingReader(io.BytesIO(CONTENT + b"trailing"), SHA256, len(CONTENT))
    reader.read(len(CONTENT))
    with pytest.raises(SizeMismatchError):
        reader.verify()


def test_verify_passes_when_the_consumer_read_everything():
    reader = VerifyingReader(io.BytesIO(CONTENT), SHA256, len(CONTENT))
    reader.read(len(CONTENT))
    reader.verify()
