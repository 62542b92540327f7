"""Run calls on a bounded number of threads, each result in the order of its call.

What a copy needs of a thread pool and no more (concurrent.futures brings logging with it, a
cost every short-lived copy would pay at start-up): `run_bounded(calls, 3)` runs the calls
three at a time and returns their results in order; after a call fails, no further call is
started, the running ones are waited for, and the first failure (in call order) is raised.
An interrupt of the waiting thread (Ctrl-C) likewise stops further calls and waits for the
running ones before it goes on, so that nothing is still writing while the caller cleans up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def run_bounded(calls: Sequence[Callable[[], T]], workers: int, name: str = "worker") -> list[T]:
    """The results of `calls`, run on at most `workers` threads; see the module docstring."""
    results: list[T | None] = [None] * len(calls)
    failures: dict[int, BaseException] = {}
    changed = threading.Condition()
    stopping = False
    following = iter(range(len(calls)))
    count = max(1, min(workers, len(calls)))
    running = ended = 0

    def work() -> None:
        nonlocal running, ended
        with changed:
            running += 1
        try:
            while True:
                with changed:
                    index = None if failures or stopping else next(following, None)
                if index is None:
                    return
                try:
                    results[index] = calls[index]()
                except BaseException as exc:  # re-raised in the caller's thread below
                    with changed:
                        failures[index] = exc
        finally:
            with changed:
                running -= 1
                ended += 1
                changed.notify_all()

    # waited for with a condition, not Thread.join: a join that Ctrl-C interrupts takes its
    # thread for ended (Python 3.11's bpo-45274 handling), and a second join returns at once
    try:
        for n in range(count):
            threading.Thread(target=work, name=f"{name}-{n}").start()
        with changed:
            changed.wait_for(lambda: ended == count)
    except BaseException:
        with changed:
            stopping = True  # a thread that begins now starts no call
            changed.wait_for(lambda: running == 0)
        raise
    if failures:
        raise failures[min(failures)]
    return results  # type: ignore[return-value]
