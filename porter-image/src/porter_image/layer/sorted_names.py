"""A folder's names in the order of their bytes, without holding a huge folder's listing.

    for name in sorted_names(path):
        ...

A folder of up to CHUNK names is listed and sorted in memory. A larger one is read in runs of
CHUNK names, each sorted and spilled to an unnamed temporary file as NUL-ended bytes (a name
holds anything but "/" and NUL), and the runs are merged as they are read back: an external
merge sort, as sort(1) does, so memory stays one run plus a small buffer per run however many
names the folder holds. The folder is read (and its descriptor closed) before the first name
is given, so a walk that keeps one of these per level of depth holds no descriptors.
"""

from __future__ import annotations

import contextlib
import heapq
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

CHUNK = 1 << 15
_READ = 1 << 16


def sorted_names(path: str | Path) -> Iterator[str]:
    """The names in the folder `path`, sorted by their bytes; OSError when it cannot be read."""
    stack = contextlib.ExitStack()
    runs: list[IO[bytes]] = []
    run: list[bytes] = []
    try:
        with os.scandir(os.fsencode(path)) as entries:
            for entry in entries:
                run.append(entry.name)
                if len(run) >= CHUNK:
                    runs.append(_spill(stack, run))
                    run = []
    except BaseException:
        stack.close()
        raise
    run.sort()
    if not runs:
        return map(os.fsdecode, run)
    return _merged(stack, [iter(run), *map(_read_run, runs)])


def _spill(stack: contextlib.ExitStack, run: list[bytes]) -> IO[bytes]:
    import tempfile  # only for huge folders: a cached build never loads it

    run.sort()
    spilled = stack.enter_context(tempfile.TemporaryFile(prefix="porter-names-"))  # noqa: SIM115
    for name in run:
        spilled.write(name + b"\0")
    spilled.seek(0)
    return spilled


def _read_run(spilled: IO[bytes]) -> Iterator[bytes]:
    rest = b""
    while block := spilled.read(_READ):
        *names, rest = (rest + block).split(b"\0")
        yield from names


def _merged(stack: contextlib.ExitStack, runs: list[Iterator[bytes]]) -> Iterator[str]:
    with stack:
        for name in heapq.merge(*runs):
            yield os.fsdecode(name)
