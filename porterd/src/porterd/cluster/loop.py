"""A round run on a thread of its own, as the agent and the reconciler run theirs: at once
when started, when woken (something it acts on changed), at a time a round asked for, and
otherwise every `interval` seconds as a safety net. Wakes that come while a round runs make
one more round, not one each; rounds are at least `gap` seconds apart, so that a burst of
changes is read once. A store that does not answer skips the round, and so does an error,
logged, that the next round may not meet."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from porterd.cluster.etcd import EtcdError

log = logging.getLogger(__name__)

SAFETY_INTERVAL = 5.0  # seconds between rounds when nothing wakes a loop
GAP = 0.02  # seconds at least between the end of a round and the start of the next


class Periodic:
    def __init__(
        self,
        name: str,
        round: Callable[[], None],
        interval: float = SAFETY_INTERVAL,
        *,
        gap: float = GAP,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.round = round
        self.interval = interval
        self.gap = gap
        self.clock = clock
        self._condition = threading.Condition()
        self._stopping = False
        self._woken = False
        self._due: float | None = None
        self._last = 0.0  # when the last round ended, on `clock`
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        with self._condition:
            self._stopping = False
            self._woken = True  # the first round runs at once
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Run a round as soon as the gap after the last one allows."""
        with self._condition:
            self._woken = True
            self._condition.notify_all()

    def wake_in(self, seconds: float) -> None:
        """Run a round within `seconds` (sooner if woken or the interval ends first)."""
        with self._condition:
            due = self.clock() + max(seconds, 0.0)
            self._due = due if self._due is None else min(self._due, due)
            self._condition.notify_all()

    def _next_round(self) -> bool:
        """Wait, under the condition, until a round is due; False once stopping."""
        while not self._stopping:
            clock = self.clock()
            if self._woken:
                at = self._last + self.gap
            else:
                at = self._last + self.interval
                if self._due is not None:
                    at = min(at, self._due)
            if clock >= at:
                self._woken = False
                self._due = None
                return True
            self._condition.wait(at - clock)
        return False

    def _run(self) -> None:
        while True:
            with self._condition:
                if not self._next_round():
                    return
            try:
                self.round()
            except EtcdError as error:
                log.warning("%s: cluster store: %s; trying again next round", self.name, error)
            except Exception:
                log.exception("%s: round failed", self.name)
            with self._condition:
                self._last = self.clock()

    def stop(self) -> None:
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
