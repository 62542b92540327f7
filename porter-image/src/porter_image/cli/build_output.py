"""How `porter-image build` shows a build on stderr, by `-q` and `--progress`.

`auto` and `plain` are the same (this builder has no live display): each step is a line, and
RUN output comes through as the command writes it. `json` is docker's build stream: every
line, a step's or a RUN's output, is one `{"stream": "...\\n"}` object; the image's digest is
`{"aux": {"ID": ...}}` and a failure (a usage error found once the command runs, and Ctrl-C,
too) `{"errorDetail": {"message": ...}, "error": ...}`, with the exit status it has without
json. `-q`
prints nothing but the digest; as `docker build -q`, it keeps the RUN output (its last KEPT
bytes, from a line's start) and shows it before the error line when a RUN fails.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from porter_specs.errors import PorterError

from porter_image.build.errors import RunFailedError
from porter_image.cli.errors import (
    INTERRUPTED_EXIT,
    USAGE_EXIT,
    exit_code,
    message,
    usage_message,
)
from porter_image.run_output import RunOutput

KEPT = 256 << 10  # bytes of RUN output -q keeps to show when a RUN fails


class KeptOutput:
    """The last `limit` bytes of the lines appended, cut at a line's start; memory holds at
    most twice that, however much a RUN writes."""

    def __init__(self, limit: int = KEPT) -> None:
        self.limit = limit
        self._data = bytearray()

    def append(self, line: str) -> None:
        self._data += line.encode("utf-8", "surrogateescape") + b"\n"
        if len(self._data) > 2 * self.limit:
            self._trim()

    def text(self) -> str:
        self._trim()
        return self._data.decode("utf-8", "replace")

    def _trim(self) -> None:
        cut = len(self._data) - self.limit
        if cut > 0:  # from the first line that starts at the cut or after it
            del self._data[: self._data.find(b"\n", cut - 1) + 1]


class BuildOutput:
    def __init__(self, quiet: bool, progress: str) -> None:
        self.quiet = quiet
        self.json = progress == "json" and not quiet
        self.kept = KeptOutput()
        self.digest = ""  # the image's, once built
        self._pipe: RunOutput | None = None
        if quiet:
            self._pipe = RunOutput(self.kept.append)
        elif self.json:
            self._pipe = RunOutput(self._stream)

    @property
    def fd(self) -> int | None:
        """The descriptor RUN steps write to (None: stderr, as it comes)."""
        return self._pipe.fd if self._pipe is not None else None

    def report(self, line: str) -> None:
        """A step's line: none with -q; with json through the pipe, so that it keeps its
        place among the RUN output and never joins a last RUN line that had no newline."""
        if self.quiet:
            return
        if self._pipe is None:
            print(line, file=sys.stderr, flush=True)
            return
        self._pipe.write_line(line)

    def _stream(self, line: str) -> None:
        """A line read from the pipe: RUN output, or a step's line."""
        self._emit({"stream": line + "\n"})

    def __enter__(self) -> BuildOutput:
        if self._pipe is not None:
            self._pipe.__enter__()
        return self

    def __exit__(self, kind: object, error: BaseException | None, trace: object) -> None:
        if self._pipe is not None:
            self._pipe.close()  # every line written so far is shown (or kept) first
        if self.json and self.digest and error is None:
            self._emit({"aux": {"ID": self.digest}})
        if self.json and isinstance(
            error, (PorterError, OSError, click.UsageError, KeyboardInterrupt)
        ):
            text, code = _failure(error)
            self._emit({"errorDetail": {"message": text}, "error": text})
            raise SystemExit(code)
        if self.quiet and isinstance(error, RunFailedError):
            sys.stderr.write(self.kept.text())
            sys.stderr.flush()

    @staticmethod
    def _emit(document: dict[str, Any]) -> None:
        sys.stderr.write(json.dumps(document) + "\n")
        sys.stderr.flush()


def _failure(error: BaseException) -> tuple[str, int]:
    """The error line and the exit status of a failed build, as they are without json."""
    if isinstance(error, KeyboardInterrupt):
        return "interrupted", INTERRUPTED_EXIT
    if isinstance(error, click.UsageError):
        if error.ctx is None:  # click names the command only once the error leaves it
            error.ctx = click.get_current_context(silent=True)
        return usage_message(error), USAGE_EXIT
    return message(error), exit_code(error)
