"""Running a chunk producer in a thread, so decompression overlaps with writing files.

zlib, zstd and hashlib release the GIL on large buffers, and the applier spends its time in
system calls, so on two cores a producer thread lets inflate+hash run beside the file writes
(as `tar -xz` runs gzip in a second process). The queue is bounded: memory stays at a few
chunks. An error in the producer is raised in the consumer; a consumer that stops early
stops the producer.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetch(source: Iterator[T], depth: int = 4) -> Generator[T, None, None]:
    """Yield what `source` yields, computed ahead in a daemon thread; `close()` stops it."""
    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in source:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as error:  # handed to the consumer, raised there
            put(_Failure(error))

    worker = threading.Thread(target=produce, name="layer-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()
