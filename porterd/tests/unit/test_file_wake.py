"""What wakes an attached stream's tail of conmon's log: a change in the log's folder, the end
of conmon, a stop of the stream; nothing else does."""

from __future__ import annotations

import subprocess
from pathlib import Path

from porterd.containers.file_wake import ChangeWatch, WakeEvent

LONG = 30.0  # a wait this long ends only if something wakes it


def test_a_quiet_folder_does_not_wake_the_wait(tmp_path: Path) -> None:
    watch = ChangeWatch(tmp_path)
    try:
        assert watch.wait(0) is False
    finally:
        watch.close()


def test_a_write_to_a_file_in_the_folder_wakes_the_wait(tmp_path: Path) -> None:
    log = tmp_path / "conmon.log"
    log.write_bytes(b"")
    watch = ChangeWatch(tmp_path)
    try:
        with open(log, "ab") as writer:
            writer.write(b"line\n")
        assert watch.wait(LONG) is True
        assert watch.wait(0) is False  # the change was taken: the next wait sleeps again
    finally:
        watch.close()


def test_a_file_renamed_into_the_folder_wakes_the_wait(tmp_path: Path) -> None:
    (tmp_path / "new").write_bytes(b"x")
    watch = ChangeWatch(tmp_path)
    try:
        (tmp_path / "new").rename(tmp_path / "conmon.log")  # conmon replacing its log
        assert watch.wait(LONG) is True
    finally:
        watch.close()


def test_the_end_of_the_watched_process_wakes_the_wait(tmp_path: Path) -> None:
    process = subprocess.Popen(["cat"], stdin=subprocess.PIPE)
    watch = ChangeWatch(tmp_path, process.pid)
    try:
        assert watch.wait(0) is False
        assert process.stdin is not None
        process.stdin.close()  # cat ends
        assert watch.wait(LONG) is True
    finally:
        watch.close()
        process.wait()


def test_setting_the_stop_event_of_a_stream_wakes_its_watch(tmp_path: Path) -> None:
    done = WakeEvent()
    watch = ChangeWatch(tmp_path)
    try:
        done.wakes(watch)
        done.set()
        assert done.is_set() and watch.wait(LONG) is True
    finally:
        done.forget(watch)
        watch.close()
