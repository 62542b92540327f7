"""The multiplexed stream of attach, logs and exec, and the detach keys of an attach."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from porterd.containers.attach import (
    DEFAULT_DETACH_KEYS,
    AttachStreams,
    DetachScanner,
    output_chunk,
    parse_detach_keys,
)
from porterd.containers.conmon import resize
from porterd.containers.framing import STDERR, STDOUT, FrameReader, frame
from porterd.errors import Conflict, InvalidParameter


def test_a_frame_is_the_stream_three_zeros_and_the_big_endian_length() -> None:
    assert frame(STDERR, b"abc") == b"\x02\x00\x00\x00\x00\x00\x00\x03abc"


def test_frames_read_back_however_the_bytes_are_split() -> None:
    data = frame(STDOUT, b"hello\n") + frame(STDERR, b"oops\n")
    reader = FrameReader()
    got = []
    for i in range(len(data)):
        got += list(reader.feed(data[i : i + 1]))
    assert got == [(STDOUT, b"hello\n"), (STDERR, b"oops\n")]
    assert reader.pending == 0


def test_conmon_packets_become_frames_without_a_terminal() -> None:
    streams = AttachStreams(stdin=False, stdout=True, stderr=True, tty=False)
    assert output_chunk(b"\x02out", streams) == frame(STDOUT, b"out")
    assert output_chunk(b"\x03err", streams) == frame(STDERR, b"err")


def test_conmon_packets_pass_raw_with_a_terminal() -> None:
    streams = AttachStreams(stdin=False, stdout=True, stderr=True, tty=True)
    assert output_chunk(b"\x02out\r\n", streams) == b"out\r\n"


def test_a_stream_the_client_did_not_ask_for_is_dropped() -> None:
    streams = AttachStreams(stdin=False, stdout=True, stderr=False, tty=False)
    assert output_chunk(b"\x03err", streams) == b""


def test_the_default_detach_keys_are_ctrl_p_ctrl_q() -> None:
    assert parse_detach_keys(None) == DEFAULT_DETACH_KEYS == b"\x10\x11"


def test_detach_keys_are_read_as_docker_spells_them() -> None:
    assert parse_detach_keys("ctrl-a,x,ctrl-@,ctrl-[") == b"\x01x\x00\x1b"


@pytest.mark.parametrize("spec", ["ctrl-", "ctrl-1", "abc", "ctrl-ab"])
def test_malformed_detach_keys_are_refused(spec: str) -> None:
    with pytest.raises(InvalidParameter):
        parse_detach_keys(spec)


def test_the_detach_sequence_ends_the_attach_and_is_not_forwarded() -> None:
    scanner = DetachScanner(b"\x10\x11")
    assert scanner.feed(b"ls\n\x10") == (b"ls\n", False)
    assert scanner.feed(b"\x11") == (b"", True)


def test_a_started_sequence_that_does_not_complete_is_forwarded() -> None:
    scanner = DetachScanner(b"\x10\x11")
    assert scanner.feed(b"a\x10b") == (b"a\x10b", False)


def test_a_repeated_first_key_keeps_the_sequence_open() -> None:
    scanner = DetachScanner(b"\x10\x11")
    assert scanner.feed(b"\x10\x10\x11") == (b"\x10", True)


def test_resizing_a_terminal_nobody_reads_is_a_conflict(tmp_path: Path) -> None:
    ctl = tmp_path / "ctl"
    os.mkfifo(ctl)  # conmon gone: the fifo has no reader
    with pytest.raises(Conflict):
        resize(ctl, 24, 80)
    with pytest.raises(Conflict):
        resize(tmp_path / "missing", 24, 80)
