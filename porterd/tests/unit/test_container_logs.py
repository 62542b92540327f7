"""Container logs: conmon's k8s-file lines converted into docker's json-file shape, rotated at
max-size into max-file files, resumable after a restart, read back with tail/since/streams."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from porterd.containers.logs import (
    JsonFileWriter,
    LogEntry,
    LogFollower,
    LogOptions,
    LogPump,
    LogQuery,
    parse_k8s_line,
    parse_size,
    read_entries,
    rotated,
    time_ns,
)
from porterd.errors import InvalidParameter

T0 = "2026-12-07T14:06:42.715665321+00:00"


def k8s(stream: str, text: str, tag: str = "F", stamp: str = T0) -> bytes:
    return f"{stamp} {stream} {tag} {text}\n".encode()


def test_a_full_k8s_line_becomes_a_json_file_entry_with_its_newline() -> None:
    entry = parse_k8s_line(k8s("stdout", "hello").rstrip(b"\n"))
    assert entry == LogEntry(b"hello\n", "stdout", "2026-12-07T14:06:42.715665321Z")
    assert json.loads(entry.to_line()) == {
        "log": "hello\n",
        "stream": "stdout",
        "time": "2026-12-07T14:06:42.715665321Z",
    }


def test_a_partial_k8s_line_keeps_no_newline() -> None:
    entry = parse_k8s_line(k8s("stderr", "no end", "P").rstrip(b"\n"))
    assert entry is not None and entry.log == b"no end" and entry.stream == "stderr"


@pytest.mark.parametrize("line", [b"", b"garbage", b"2026 stdout F x", T0.encode() + b" other F x"])
def test_malformed_k8s_lines_are_skipped(line: bytes) -> None:
    assert parse_k8s_line(line) is None


def test_times_parse_to_nanoseconds_in_any_zone() -> None:
    assert time_ns("1970-01-01T00:00:01.5Z") == 1_500_000_000
    assert time_ns("1970-01-01T01:00:01.000000001+01:00") == 1_000_000_001


def test_sizes_are_docker_sizes() -> None:
    assert parse_size("10m") == 10 * 1024 * 1024
    assert parse_size("512k") == 512 * 1024
    assert parse_size("100") == 100
    with pytest.raises(InvalidParameter):
        parse_size("ten")


def test_log_config_defaults_to_ten_megabytes_times_three() -> None:
    assert LogOptions.from_log_config(None) == LogOptions(10 * 1024 * 1024, 3)


def test_log_config_refuses_other_drivers_and_unknown_options() -> None:
    with pytest.raises(InvalidParameter):
        LogOptions.from_log_config({"Type": "syslog"})
    with pytest.raises(InvalidParameter):
        LogOptions.from_log_config({"Type": "json-file", "Config": {"compress": "true"}})


def entries(n: int, size: int = 10) -> list[LogEntry]:
    return [
        LogEntry(b"x" * size + b"\n", "stdout", f"2026-01-01T00:00:{i:02d}.0Z") for i in range(n)
    ]


def test_the_writer_rotates_at_max_size_and_keeps_max_file_files(tmp_path: Path) -> None:
    path = tmp_path / "c-json.log"
    line = len(entries(1)[0].to_line())
    writer = JsonFileWriter(path, LogOptions(max_size=line * 2, max_files=3))
    writer.append(entries(10))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "c-json.log",
        "c-json.log.1",
        "c-json.log.2",
    ]
    assert all(p.stat().st_size <= line * 2 for p in tmp_path.iterdir())
    times = [e.time for e in read_entries(path, writer.options, LogQuery())]
    assert times == [f"2026-01-01T00:00:{i:02d}.0Z" for i in range(4, 10)]


def test_tail_since_and_streams_select_entries(tmp_path: Path) -> None:
    path = tmp_path / "log"
    mixed = [
        LogEntry(b"a\n", "stdout", "1970-01-01T00:00:01Z"),
        LogEntry(b"b\n", "stderr", "1970-01-01T00:00:02Z"),
        LogEntry(b"c\n", "stdout", "1970-01-01T00:00:03Z"),
    ]
    JsonFileWriter(path, LogOptions()).append(mixed)
    logs = [e.log for e in read_entries(path, LogOptions(), LogQuery(tail=2))]
    assert logs == [b"b\n", b"c\n"]
    logs = [e.log for e in read_entries(path, LogOptions(), LogQuery(stderr=False))]
    assert logs == [b"a\n", b"c\n"]
    query = LogQuery(since_ns=2_000_000_000, until_ns=2_500_000_000)
    assert [e.log for e in read_entries(path, LogOptions(), query)] == [b"b\n"]
    assert read_entries(path, LogOptions(), LogQuery(tail=0)) == []


def make_pump(tmp_path: Path) -> tuple[LogPump, Path, Path]:
    source, target = tmp_path / "conmon.log", tmp_path / "c-json.log"
    pump = LogPump(source, tmp_path / "cursor", JsonFileWriter(target, LogOptions()))
    return pump, source, target


def logged(target: Path) -> list[str]:
    return [json.loads(line)["log"] for line in target.read_text().splitlines()]


def test_the_pump_converts_complete_lines_and_waits_for_the_rest(tmp_path: Path) -> None:
    pump, source, target = make_pump(tmp_path)
    second = k8s("stdout", "two")
    source.write_bytes(k8s("stdout", "one") + second[:-3])
    pump.pump()
    assert logged(target) == ["one\n"]
    with open(source, "ab") as log:
        log.write(second[-3:])
    pump.pump()
    assert logged(target) == ["one\n", "two\n"]


def one_converted_then_two_written(tmp_path: Path) -> tuple[LogPump, Path]:
    """A pump that converted "one" and closed; conmon has written "two" since."""
    pump, source, target = make_pump(tmp_path)
    source.write_bytes(k8s("stdout", "one"))
    pump.pump()
    pump.close()
    with open(source, "ab") as log:
        log.write(k8s("stdout", "two"))
    return pump, target


def test_a_new_pump_resumes_at_the_cursor(tmp_path: Path) -> None:
    _, target = one_converted_then_two_written(tmp_path)
    again, _, _ = make_pump(tmp_path)  # porterd restarted
    again.pump()
    assert logged(target) == ["one\n", "two\n"]


def test_the_pump_finishes_a_file_conmon_replaced(tmp_path: Path) -> None:
    pump, source, target = make_pump(tmp_path)
    source.write_bytes(k8s("stdout", "one"))
    pump.pump()
    with open(source, "ab") as log:
        log.write(k8s("stdout", "two"))
    replacement = tmp_path / "conmon.log.new"
    replacement.write_bytes(k8s("stdout", "three"))
    os.replace(replacement, source)  # conmon past --log-size-max
    pump.pump()
    assert logged(target) == ["one\n", "two\n", "three\n"]


def test_the_follower_sees_new_entries_across_a_rotation(tmp_path: Path) -> None:
    path = tmp_path / "log"
    line = len(entries(1)[0].to_line())
    writer = JsonFileWriter(path, LogOptions(max_size=line * 2, max_files=2))
    writer.append(entries(1))
    follower = LogFollower(path)
    writer.append(entries(3)[1:])
    assert [e.time[-5:] for e in follower.poll()] == ["01.0Z", "02.0Z"]
    assert rotated(path, 1).exists()


def test_a_terminal_carriage_return_stays_in_the_line(tmp_path: Path) -> None:
    pump, source, target = make_pump(tmp_path)
    source.write_bytes(k8s("stdout", "a\rb\r"))
    pump.pump()
    assert logged(target) == ["a\rb\r\n"]


class KilledBeforeTheCursor(LogPump):
    """A pump whose porterd is killed after an append, before the cursor is written."""

    def _save_cursor(self, inode: int, offset: int) -> None:
        raise KeyboardInterrupt  # stands for the SIGKILL: nothing after the append runs


def test_lines_appended_before_a_kill_that_left_the_cursor_behind_are_logged_once(
    tmp_path: Path,
) -> None:
    pump, target = one_converted_then_two_written(tmp_path)
    killed = KilledBeforeTheCursor(pump.source, pump.cursor, pump.writer)
    with pytest.raises(KeyboardInterrupt):
        killed.pump()
    assert logged(target) == ["one\n", "two\n"]  # appended, the cursor still after "one"
    again, _, _ = make_pump(tmp_path)  # porterd started again
    again.pump()
    assert logged(target) == ["one\n", "two\n"]


def test_the_follower_reads_what_reached_the_log_before_its_removal(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.touch()  # as a start leaves it
    follower = LogFollower(path)
    JsonFileWriter(path, LogOptions()).append(entries(2))
    path.unlink()  # the container removed (run --rm) before the follower's next look
    assert [e.time[-5:] for e in follower.poll()] == ["00.0Z", "01.0Z"]
    follower.close()
