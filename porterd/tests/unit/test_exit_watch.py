"""ExitWatch: the monitor wakes when a watched process ends, or when asked to."""

from __future__ import annotations

import subprocess
import sys
import threading

from porterd.containers.exit_watch import ExitWatch, wait_for_exit

LONG = 60.0  # a wait this long only ends early if something fired


def test_the_wait_ends_when_a_watched_process_ends() -> None:
    watch = ExitWatch()
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE)  # fmt: skip
    try:
        assert not watch.wait([child.pid], 0.05)  # running: nothing fires
        threading.Timer(0.1, child.stdin.close).start()  # type: ignore[union-attr]
        assert watch.wait([child.pid], LONG)
    finally:
        child.wait()
        watch.close()


def test_a_process_that_fired_is_not_waited_on_again() -> None:
    watch = ExitWatch()
    child = subprocess.Popen(["true"])
    try:
        assert watch.wait([child.pid], LONG)
        # a zombie's pidfd stays readable: waiting on it again would spin
        assert not watch.wait([child.pid], 0.05)
    finally:
        child.wait()
        watch.close()


def test_a_process_already_gone_ends_the_wait() -> None:
    watch = ExitWatch()
    child = subprocess.Popen(["true"])
    child.wait()
    try:
        assert watch.wait([child.pid], LONG)
    finally:
        watch.close()


def test_wake_ends_the_wait_and_close_is_idempotent() -> None:
    watch = ExitWatch()
    threading.Timer(0.1, watch.wake).start()
    assert watch.wait([], LONG)
    watch.close()
    watch.close()
    watch.wake()  # after close: nothing to wake, no error


def test_waiting_for_one_process_says_whether_it_ended() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE)  # fmt: skip
    try:
        assert not wait_for_exit(child.pid, 0.05)  # still running when the time is up
        child.stdin.close()  # type: ignore[union-attr]
        assert wait_for_exit(child.pid, LONG)
    finally:
        child.wait()
    assert wait_for_exit(child.pid, LONG)  # gone (reaped): at once
