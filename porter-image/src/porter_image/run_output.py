"""RUN output read line by line: a pipe the RUN steps write to (BuildOptions.output), read by
a thread that hands each line to a function, as porterd's build stream and the command's
`--progress json` and `-q` need it."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

LINE = 1 << 16  # longer lines are handed over in pieces of this size, so memory stays bounded


class RunOutput:
    """A pipe RUN steps write to, read line by line (each at most LINE bytes, so memory
    stays bounded) by a thread that hands each line to `report`."""

    def __init__(self, report: Callable[[str], None]) -> None:
        self.report = report
        read, self.fd = os.pipe()
        self._reader = os.fdopen(read, "rb")
        self._thread = threading.Thread(target=self._pump, name="porter-build-output")

    def __enter__(self) -> RunOutput:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Wait until every line written so far has been handed over (once is enough)."""
        if self.fd < 0:
            return
        os.close(self.fd)
        self.fd = -1
        self._thread.join()
        self._reader.close()

    def _pump(self) -> None:
        """Report each line; once reporting fails (the client went away) keep draining the
        pipe, so that a RUN step never blocks on a full pipe."""
        reporting = True
        while line := self._reader.readline(LINE):
            if reporting:
                try:
                    self.report(line.decode("utf-8", "replace").rstrip("\n"))
                except Exception:
                    reporting = False
