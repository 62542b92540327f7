"""Archives to and from the daemon (save, export, cp, load, import): streamed in chunks to a
file or stdout, and from a file or stdin, never held whole in memory."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from porter_cli.errors import CliError

CHUNK = 1 << 16


class Readable(Protocol):
    def read1(self, amount: int = ...) -> bytes: ...

    def close(self) -> None: ...


def write_download(response: Readable, output: str | None) -> None:
    """The body to `output` (atomically: temp file then rename) or to stdout, which must not
    be a terminal (docker's "cowardly refusing")."""
    try:
        if output is None or output == "-":
            if sys.stdout.isatty():
                raise CliError(
                    "cowardly refusing to save to a terminal; use the -o flag or redirect"
                )
            out = sys.stdout.buffer
            while chunk := response.read1(CHUNK):
                out.write(chunk)
            out.flush()
            return
        target = Path(output)
        temp = target.with_name(f".{target.name}.porter-tmp")
        try:
            with open(temp, "wb") as out_file:
                while chunk := response.read1(CHUNK):
                    out_file.write(chunk)
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
    finally:
        response.close()


@contextlib.contextmanager
def read_upload(source: str | None) -> Iterator[Iterator[bytes]]:
    """Chunks of a file (or stdin when `source` is None), for a chunked request body."""
    try:
        stream = open(source, "rb") if source else sys.stdin.buffer  # noqa: SIM115
    except OSError as error:
        raise CliError(f"cannot read {source}: {error.strerror or error}") from error

    def chunks() -> Iterator[bytes]:
        while chunk := stream.read(CHUNK):
            yield chunk

    try:
        yield chunks()
    finally:
        if source:
            stream.close()
