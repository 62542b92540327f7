"""DirectoryLock between the threads of one process (porterd shares a layout between its
threads) and between processes."""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from porter_image.layout import lock as lock_module
from porter_image.layout.lock import DirectoryLock

# Long enough for a second thread to get in where the lock fails to keep it out.
GRACE = 0.3


class Holder(threading.Thread):
    """A thread that holds `lock`, logging when it is in and out, until told to let go."""

    def __init__(self, lock: DirectoryLock, name: str, log: list[str]) -> None:
        super().__init__(daemon=True)
        self.lock, self.label, self.log = lock, name, log
        self.entered, self.release = threading.Event(), threading.Event()

    def run(self) -> None:
        with self.lock.hold(exclusive=True):
            self.log.append(f"{self.label} in")
            self.entered.set()
            self.release.wait(10)
            self.log.append(f"{self.label} out")


def run_two(first: DirectoryLock, second: DirectoryLock) -> list[str]:
    """`first` held exclusively by thread a; thread b asks for `second` meanwhile; a lets go
    after GRACE. Returns the order things happened in."""
    log: list[str] = []
    a, b = Holder(first, "a", log), Holder(second, "b", log)
    a.start()
    assert a.entered.wait(10)
    b.start()
    b.entered.wait(GRACE)
    a.release.set()
    b.release.set()
    a.join(10)
    b.join(10)
    return log


def test_two_threads_sharing_one_lock_do_not_both_hold_it(tmp_path: Path) -> None:
    lock = DirectoryLock(tmp_path)
    assert run_two(lock, lock) == ["a in", "a out", "b in", "b out"]


def test_two_locks_on_one_directory_exclude_each_others_threads(tmp_path: Path) -> None:
    log = run_two(DirectoryLock(tmp_path), DirectoryLock(tmp_path))
    assert log == ["a in", "a out", "b in", "b out"]


def test_threads_exclude_each_other_where_flock_is_per_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As on NFS, where flock is fcntl's per-process lock: it never keeps this process's
    # other threads out, here because it does nothing.
    monkeypatch.setattr(lock_module.fcntl, "flock", lambda fd, operation: None)
    log = run_two(DirectoryLock(tmp_path), DirectoryLock(tmp_path))
    assert log == ["a in", "a out", "b in", "b out"]


def test_shared_holds_of_two_threads_overlap(tmp_path: Path) -> None:
    lock = DirectoryLock(tmp_path)
    both = threading.Barrier(2, timeout=10)

    def reader() -> None:
        with lock.hold(exclusive=False):
            both.wait()  # BrokenBarrierError unless the other thread is inside too

    with ThreadPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(reader) for _ in range(2)]:
            future.result()


def test_an_exclusive_hold_waits_for_another_threads_shared_one(tmp_path: Path) -> None:
    lock = DirectoryLock(tmp_path)
    log: list[str] = []
    reading, done = threading.Event(), threading.Event()

    def reader() -> None:
        with lock.hold(exclusive=False):
            log.append("shared in")
            reading.set()
            done.wait(GRACE)
            log.append("shared out")

    thread = threading.Thread(target=reader)
    thread.start()
    assert reading.wait(10)
    with lock.hold(exclusive=True):
        log.append("exclusive in")
    done.set()
    thread.join(10)
    assert log == ["shared in", "shared out", "exclusive in"]


def test_holds_nest_within_a_thread(tmp_path: Path) -> None:
    lock = DirectoryLock(tmp_path)
    with lock.hold(exclusive=True), lock.hold(exclusive=False), lock.hold(exclusive=True):
        pass
    with lock.hold(exclusive=False), lock.hold(exclusive=False):
        pass


def test_exclusive_inside_shared_in_one_thread_is_refused(tmp_path: Path) -> None:
    lock = DirectoryLock(tmp_path)
    with (
        lock.hold(exclusive=False),
        pytest.raises(RuntimeError, match="exclusive lock inside a shared one"),
        lock.hold(exclusive=True),
    ):
        pass


TRY_LOCK = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
except BlockingIOError:
    sys.exit(1)
"""


def another_process_can_lock(path: Path) -> bool:
    return subprocess.run([sys.executable, "-c", TRY_LOCK, str(path)], timeout=30).returncode == 0


@pytest.mark.parametrize("exclusive", [False, True], ids=["shared", "exclusive"])
def test_another_process_waits_while_a_thread_holds_it(tmp_path: Path, exclusive: bool) -> None:
    lock = DirectoryLock(tmp_path)
    result: list[bool] = []

    def in_thread() -> None:
        with lock.hold(exclusive=exclusive):
            result.append(another_process_can_lock(tmp_path))

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join(30)
    assert result == [False]
    assert another_process_can_lock(tmp_path)
