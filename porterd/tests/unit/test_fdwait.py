"""Waiting for a descriptor to become readable, past select's limit of 1024 too."""

from __future__ import annotations

import os
import resource
from collections.abc import Iterator

import pytest
from porterd.fdwait import readable

HIGH_FD = 1500


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read_end, write_end = os.pipe()
    yield read_end, write_end
    os.close(read_end)
    os.close(write_end)


def test_an_empty_pipe_is_not_readable_now(pipe: tuple[int, int]) -> None:
    assert not readable(pipe[0], 0)


def test_a_pipe_with_data_is_readable(pipe: tuple[int, int]) -> None:
    os.write(pipe[1], b"x")
    assert readable(pipe[0], 1.0)


def test_a_descriptor_past_1023_is_waited_on(pipe: tuple[int, int]) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if max(soft, hard) <= HIGH_FD and hard != resource.RLIM_INFINITY:
        pytest.skip(f"the descriptor limit ({hard}) does not reach {HIGH_FD}")
    if soft <= HIGH_FD:
        resource.setrlimit(resource.RLIMIT_NOFILE, (HIGH_FD + 1, hard))
    try:
        high = os.dup2(pipe[0], HIGH_FD)
        try:
            os.write(pipe[1], b"x")
            assert readable(high, 1.0)
        finally:
            os.close(high)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
