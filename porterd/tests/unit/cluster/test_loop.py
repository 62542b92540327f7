"""porterd.cluster.loop.Periodic: rounds go on after a store error or a failed round."""

from __future__ import annotations

import threading

from porterd.cluster.etcd import NoQuorum
from porterd.cluster.loop import Periodic


def test_rounds_go_on_after_a_store_error_and_a_failed_round() -> None:
    calls: list[int] = []
    done = threading.Event()

    def round() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise NoQuorum("the cluster store has no quorum")
        if len(calls) == 2:
            raise RuntimeError("a bug")
        done.set()

    loop = Periodic("test-loop", round, 0.01)
    loop.start()
    try:
        assert done.wait(10)
    finally:
        loop.stop()
    assert len(calls) >= 3


def test_a_stopped_loop_runs_no_more_rounds() -> None:
    calls: list[int] = []
    loop = Periodic("test-loop", lambda: calls.append(1), 0.01)
    loop.start()
    loop.stop()
    seen = len(calls)
    threading.Event().wait(0.05)
    assert len(calls) == seen
