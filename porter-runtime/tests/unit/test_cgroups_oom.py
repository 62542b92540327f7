"""Counting OOM events from cgroup v2's memory.events."""

import os

from porter_runtime.cgroups import oom

EVENTS = "low 0\nhigh 0\nmax 4\noom {oom}\noom_kill {kills}\noom_group_kill 0\n"


def test_oom_kill_counter_is_read_from_memory_events():
    assert oom.oom_kills(EVENTS.format(oom=2, kills=3)) == 3
    assert oom.oom_kills("low 0\n") == 0


def test_v2_watcher_reports_only_new_oom_kills(tmp_path):
    path = tmp_path / "memory.events"
    path.write_text(EVENTS.format(oom=1, kills=1))
    watcher = oom.watch_v2(str(tmp_path))
    try:
        assert watcher.pending() == 0
        path.write_text(EVENTS.format(oom=3, kills=3))
        assert watcher.pending() == 2
        assert watcher.pending() == 0
    finally:
        watcher.close()


def test_v1_watcher_reads_the_eventfd_count():
    efd = os.eventfd(0, os.EFD_NONBLOCK)
    watcher = oom.OomWatcher(efd, counter_file=False)
    try:
        assert watcher.wait(0) == 0
        os.eventfd_write(efd, 2)
        assert watcher.wait(1) == 2
    finally:
        watcher.close()


def test_manager_without_memory_cgroup_has_no_watcher(tmp_path):
    class NoMemory:
        dirs = {"pids": str(tmp_path)}

    assert oom.watch(NoMemory()) is None
