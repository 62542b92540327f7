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
    lock = threading.Lock()
    stopping = threading.Event()
    following = iter(range(len(calls)))

    def work() -> None:
        while True:
            with lock:
                index = None if failures or stopping.is_set() else next(following, None)
            if index is None:
                return
            try:
                results[index] = calls[index]()
            except BaseException as exc:  # re-raised in the caller's thread below
                with lock:
                    failures[index] = exc

    threads = [
        threading.Thread(target=work, name=f"{name}-{n}")
        for n in range(max(1, min(workers, len(calls))))
    ]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except BaseException:
        stopping.set()
        for thread in threads:
            thread.join()
        raise
    if failures:
        raise failures[min(failures)]
    return results  # type: ignore[return-value]
