"""RUN output read from a pipe line by line (porter_image.run_output): the lines depend only
on the bytes written, never on how reads cut them."""

from __future__ import annotations

import os
import threading

from porter_image.run_output import LINE, LineSplitter, RunOutput

MARK = b"<M>"
SAMPLE = (
    b"one\n"
    b"\n"
    b"abcdefghijk\n"  # longer than the limit: cut into pieces
    b"abcdefg\xc3\xa9z\n"  # the limit falls inside the two bytes of the e-acute
    b"1234567<M>step\n"  # output without a newline, then a mark across the limit
    b"12345678<M>s\n"
    b"tail"
)
LINES = [
    "one",
    "",
    "abcdefgh",
    "ijk",
    "abcdefg",
    "\u00e9z",
    "1234567",
    "<M>step",
    "12345678",
    "<M>s",
    "tail",
]


def split(pieces: list[bytes]) -> list[str]:
    splitter = LineSplitter(MARK, limit=8)
    lines = [line for piece in pieces for line in splitter.feed(piece)]
    return [*lines, *splitter.end()]


def test_lines_are_cut_at_newlines_the_limit_and_before_each_mark() -> None:
    assert split([SAMPLE]) == LINES


def test_lines_are_the_same_wherever_a_read_cuts_the_bytes() -> None:
    for offset in range(len(SAMPLE) + 1):
        assert split([SAMPLE[:offset], SAMPLE[offset:]]) == LINES, offset


def test_lines_are_the_same_when_read_a_byte_at_a_time() -> None:
    assert split([SAMPLE[i : i + 1] for i in range(len(SAMPLE))]) == LINES


def test_a_mark_across_the_pipes_line_limit_starts_its_own_line() -> None:
    lines: list[str] = []
    with RunOutput(lines.append, MARK) as output:
        data = b"x" * (LINE - 2)
        while data:
            data = data[os.write(output.fd, data) :]
        output.write_line("Step 2/2 : RUN true")
    assert lines == ["x" * (LINE - 2), "Step 2/2 : RUN true"]


def test_a_written_line_comes_after_the_output_before_it_from_the_reading_thread() -> None:
    lines: list[tuple[str, str]] = []
    with RunOutput(lambda line: lines.append((line, threading.current_thread().name))) as output:
        os.write(output.fd, b"one\nno newline")
        output.write_line("Step 2/2 : CMD x")
    reader = "porter-build-output"
    assert lines == [("one", reader), ("no newline", reader), ("Step 2/2 : CMD x", reader)]
