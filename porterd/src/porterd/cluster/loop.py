"""A round run every `interval` seconds on a thread of its own, as the agent and the
reconciler run theirs: a store that does not answer skips the round, and so does an error,
logged, that the next round may not meet."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from porterd.cluster.etcd import EtcdError

log = logging.getLogger(__name__)


class Periodic:
    def __init__(self, name: str, round: Callable[[], None], interval: float) -> None:
        self.name = name
        self.round = round
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.round()
            except EtcdError as error:
                log.warning("%s: cluster store: %s; trying again next round", self.name, error)
            except Exception:
                log.exception("%s: round failed", self.name)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
