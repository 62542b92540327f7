"""Tracks zstd frame boundaries in a compressed stream, to tell a complete stream from a cut one.

python-zstandard's stream reader returns end-of-stream quietly when its input stops in the
middle of a frame. Walking the frame and block headers (RFC 8878, section 3.1) as the bytes
pass costs almost nothing and lets a truncated layer fail with a clear error.
"""

from __future__ import annotations

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_SKIPPABLE_LOW, _SKIPPABLE_HIGH = 0x184D2A50, 0x184D2A5F
_FCS_SIZES = (0, 2, 4, 8)
_DICT_SIZES = (0, 1, 2, 4)


class FrameFormatError(ValueError):
    """The bytes do not follow the zstd frame format."""


class ZstdFrameScanner:
    """Feed compressed bytes in order; `at_boundary` says whether they end between frames."""

    def __init__(self) -> None:
        self._pending = bytearray()  # bytes of the header currently being read
        self._need = 4  # bytes needed to complete the current header
        self._state = "magic"
        self._skip = 0  # bytes of block/frame payload still to pass by
        self._checksum = False

    @property
    def at_boundary(self) -> bool:
        return self._state == "magic" and not self._pending and self._skip == 0

    def feed(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view:
            if self._skip:
                step = min(self._skip, len(view))
                self._skip -= step
                view = view[step:]
                continue
            take = min(self._need - len(self._pending), len(view))
            self._pending += view[:take]
            view = view[take:]
            if len(self._pending) == self._need:
                self._advance(bytes(self._pending))

    def _expect(self, state: str, need: int) -> None:
        self._pending.clear()
        self._state = state
        self._need = need

    def _advance(self, header: bytes) -> None:
        if self._state == "magic":
            magic = int.from_bytes(header, "little")
            if header == ZSTD_MAGIC:
                self._expect("descriptor", 1)
            elif _SKIPPABLE_LOW <= magic <= _SKIPPABLE_HIGH:
                self._expect("skippable", 4)
            else:
                raise FrameFormatError("not a zstd frame (bad magic number)")
        elif self._state == "skippable":
            self._skip = int.from_bytes(header, "little")
            self._expect("magic", 4)
        elif self._state == "descriptor":
            flags = header[0]
            single = bool(flags & 0x20)
            self._checksum = bool(flags & 0x04)
            fcs = _FCS_SIZES[flags >> 6] or (1 if single else 0)
            rest = (0 if single else 1) + _DICT_SIZES[flags & 0x03] + fcs
            self._skip = rest
            self._expect("block", 3)
        elif self._state == "block":
            value = int.from_bytes(header, "little")
            last, kind, size = value & 1, (value >> 1) & 3, value >> 3
            if kind == 3:
                raise FrameFormatError("reserved block type")
            self._skip = 1 if kind == 1 else size
            if not last:
                self._expect("block", 3)
            elif self._checksum:
                self._skip += 4
                self._expect("magic", 4)
            else:
                self._expect("magic", 4)
