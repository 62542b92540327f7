"""The tar format (POSIX ustar + PAX, reading GNU long names too), as plain bytes.

Our own encoder and decoder instead of `tarfile`: the writer needs byte-exact control (empty
uname/gname, no atime/ctime, fixed PAX header names) so that one tree always gives one digest,
and the reader needs to stream entries' data as memoryviews straight to files without the
per-entry overhead of `tarfile`.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field

BLOCK = 512
ZERO_BLOCK = bytes(BLOCK)

REGULAR = "0"
HARDLINK = "1"
SYMLINK = "2"
CHAR = "3"
BLOCKDEV = "4"
DIRECTORY = "5"
FIFO = "6"
CONTIGUOUS = "7"
PAX_LOCAL = "x"
PAX_GLOBAL = "g"
GNU_LONGNAME = "L"
GNU_LONGLINK = "K"

# Types whose header size field never announces data (as Go's archive/tar reads them).
HEADER_ONLY = frozenset({HARDLINK, SYMLINK, CHAR, BLOCKDEV, DIRECTORY, FIFO})
ENTRY_TYPES = frozenset({REGULAR, HARDLINK, SYMLINK, CHAR, BLOCKDEV, DIRECTORY, FIFO, CONTIGUOUS})

XATTR_PREFIX = "SCHILY.xattr."
_PAX_NAME = b"././@PaxHeader"
_MAX_OCTAL = {8: 0o7777777, 12: 0o77777777777}


@dataclass(slots=True)
class TarEntry:
    """One archive member, with PAX and GNU extensions already folded in."""

    name: str
    type: str = REGULAR
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    size: int = 0
    mtime_ns: int = 0
    atime_ns: int | None = None
    linkname: str = ""
    devmajor: int = 0
    devminor: int = 0
    xattrs: dict[str, bytes] = field(default_factory=dict)

    @property
    def data_size(self) -> int:
        """Bytes of data that follow the header in the archive."""
        return 0 if self.type in HEADER_ONLY else self.size


def padding(size: int) -> int:
    """Zero bytes that round `size` up to a whole block."""
    return -size % BLOCK


# ---------------------------------------------------------------- encoding


def _pax_record(key: str, value: bytes) -> bytes:
    payload = b" " + key.encode() + b"=" + value + b"\n"
    length = len(payload) + len(str(len(payload)))
    if len(str(length)) != len(str(len(payload))):
        length += 1
    return str(length).encode() + payload


def _fits(value: int, width: int) -> bool:
    return 0 <= value <= _MAX_OCTAL[width]


def _octal(value: int, width: int) -> bytes:
    return format(value, "o").rjust(width - 1, "0").encode() + b"\0"


def _text(value: bytes, width: int) -> bytes:
    return value.ljust(width, b"\0")


def _header(entry: TarEntry, name: bytes, linkname: bytes, size: int, mtime: int) -> bytes:
    uid = entry.uid if _fits(entry.uid, 8) else 0
    gid = entry.gid if _fits(entry.gid, 8) else 0
    fields = [
        _text(name, 100),
        _octal(entry.mode & 0o7777, 8),
        _octal(uid, 8),
        _octal(gid, 8),
        _octal(size if _fits(size, 12) else 0, 12),
        _octal(mtime if _fits(mtime, 12) else 0, 12),
        b" " * 8,
        entry.type.encode(),
        _text(linkname, 100),
        b"ustar\x0000",
        bytes(32),
        bytes(32),
        _octal(entry.devmajor, 8) if entry.type in (CHAR, BLOCKDEV) else bytes(8),
        _octal(entry.devminor, 8) if entry.type in (CHAR, BLOCKDEV) else bytes(8),
        bytes(155),
    ]
    block = bytearray(b"".join(fields).ljust(BLOCK, b"\0"))
    block[148:156] = format(sum(block), "06o").encode() + b"\0 "
    return bytes(block)


def encode_header(entry: TarEntry) -> bytes:
    """The header block(s) of `entry`: a PAX extended header first when ustar cannot hold it.

    Deterministic: uname/gname empty, no atime or ctime, PAX records in a fixed order.
    """
    name = os.fsencode(entry.name)
    linkname = os.fsencode(entry.linkname)
    mtime = entry.mtime_ns // 1_000_000_000
    records: list[bytes] = []
    if len(name) > 100 or not name.isascii():
        records.append(_pax_record("path", name))
    if len(linkname) > 100 or not linkname.isascii():
        records.append(_pax_record("linkpath", linkname))
    for key, value in (("uid", entry.uid), ("gid", entry.gid)):
        if not _fits(value, 8):
            records.append(_pax_record(key, str(value).encode()))
    if not _fits(entry.size, 12):
        records.append(_pax_record("size", str(entry.size).encode()))
    if not _fits(mtime, 12):
        records.append(_pax_record("mtime", str(mtime).encode()))
    for key in sorted(entry.xattrs):
        records.append(_pax_record(XATTR_PREFIX + key, entry.xattrs[key]))
    size = entry.size if entry.type not in HEADER_ONLY else 0
    main = _header(entry, name[:100], linkname[:100], size, mtime)
    if not records:
        return main
    data = b"".join(records)
    pax = TarEntry(name="", type=PAX_LOCAL, mode=0o644, size=len(data))
    return _header(pax, _PAX_NAME, b"", len(data), 0) + data + bytes(padding(len(data))) + main


# ---------------------------------------------------------------- decoding


class HeaderError(ValueError):
    """A header block does not parse; the reader turns it into a LayerError."""


def parse_number(field_bytes: bytes) -> int:
    """A numeric header field: octal text, or GNU base-256 when the high bit is set."""
    if field_bytes and field_bytes[0] & 0x80:
        value = int.from_bytes(field_bytes[1:], "big")
        if field_bytes[0] == 0xFF:
            value -= 1 << (8 * (len(field_bytes) - 1))
        return value
    text = field_bytes.split(b"\0", 1)[0].strip(b" ")
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise HeaderError(f"bad numeric field {field_bytes!r}") from None


def check_checksum(block: bytes) -> None:
    """Refuse a header whose checksum (unsigned or historic signed sum) does not match."""
    stored = _number(block[148:156])
    unsigned = sum(block) - sum(block[148:156]) + 256
    if stored == unsigned:
        return
    signed = sum((b - 256 if b > 127 else b) for b in block[:148] + block[156:]) + 256
    if stored != signed:
        raise HeaderError("header checksum mismatch (not a tar archive, or corrupt)")


# name, mode, uid, gid, size, mtime, (checksum), typeflag, linkname, magic+version, (owner
# names), devmajor, devminor, prefix: one C-level unpack instead of a slice per field.
_HEADER = struct.Struct("100s8s8s8s12s12s8x1s100s8s64x8s8s155s12x")


def _number(field_bytes: bytes) -> int:
    """parse_number's common case (plain octal text) inline, the rest handed to it."""
    if field_bytes[0] < 0x80:
        text = field_bytes.partition(b"\0")[0]
        if text.isdigit():
            try:
                return int(text, 8)
            except ValueError:
                pass  # an 8 or 9: parse_number raises the HeaderError
    return parse_number(field_bytes)


def decode_header(block: bytes) -> TarEntry:
    """A TarEntry from one ustar/GNU/v7 header block (PAX records are merged by the reader)."""
    check_checksum(block)
    name, mode, uid, gid, size, mtime, kind, link, magic, major, minor, prefix = _HEADER.unpack(
        block
    )
    name = name.partition(b"\0")[0]
    if magic == b"ustar\x0000" and prefix[0]:
        name = prefix.partition(b"\0")[0] + b"/" + name
    ustar = magic.startswith(b"ustar")
    return TarEntry(
        name=name.decode() if name.isascii() else os.fsdecode(name),
        type=kind.decode("latin-1") if kind != b"\0" else REGULAR,
        mode=_number(mode) & 0o7777,
        uid=_number(uid),
        gid=_number(gid),
        size=_number(size),
        mtime_ns=_number(mtime) * 1_000_000_000,
        linkname=os.fsdecode(link.partition(b"\0")[0]) if link[0] else "",
        devmajor=_number(major) if ustar and major[0] else 0,
        devminor=_number(minor) if ustar and minor[0] else 0,
    )


def parse_pax(data: bytes) -> dict[str, bytes]:
    """PAX extended header records ("<len> <key>=<value>\\n") as a dict of raw values."""
    records: dict[str, bytes] = {}
    pos = 0
    while pos < len(data):
        if data[pos] == 0:
            break
        space = data.find(b" ", pos)
        if space < 0:
            raise HeaderError("malformed PAX record")
        try:
            length = int(data[pos:space])
        except ValueError:
            raise HeaderError("malformed PAX record length") from None
        record = data[space + 1 : pos + length]
        if length <= 0 or pos + length > len(data) or not record.endswith(b"\n"):
            raise HeaderError("malformed PAX record")
        key, sep, value = record[:-1].partition(b"=")
        if not sep:
            raise HeaderError("PAX record without '='")
        records[key.decode("utf-8", "surrogateescape")] = value
        pos += length
    return records


def _pax_time_ns(value: bytes) -> int:
    text = value.decode("ascii", "replace")
    whole, _, frac = text.partition(".")
    try:
        negative = whole.startswith("-")
        seconds = int(whole)
        nanos = int((frac + "000000000")[:9]) if frac else 0
    except ValueError:
        raise HeaderError(f"bad PAX time {text!r}") from None
    return seconds * 1_000_000_000 + (-nanos if negative else nanos)


def apply_pax(entry: TarEntry, records: dict[str, bytes]) -> None:
    """Fold PAX records into an entry: they override the ustar fields."""
    for key, value in records.items():
        if key == "path":
            entry.name = os.fsdecode(value)
        elif key == "linkpath":
            entry.linkname = os.fsdecode(value)
        elif key in ("size", "uid", "gid"):
            try:
                setattr(entry, key, int(value))
            except ValueError:
                raise HeaderError(f"bad PAX {key} {value!r}") from None
        elif key == "mtime":
            entry.mtime_ns = _pax_time_ns(value)
        elif key == "atime":
            entry.atime_ns = _pax_time_ns(value)
        elif key.startswith(XATTR_PREFIX):
            entry.xattrs[key[len(XATTR_PREFIX) :]] = value
