"""Docker's JSON progress streams (pull, push, load, import) shown to a person: on a terminal
one line per layer, rewritten in place with a bar; otherwise one plain line per status change."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any, TextIO

from porter_cli.client.stream import raise_for_error

BAR_WIDTH = 50


def bar(detail: dict[str, Any]) -> str:
    from porter_cli.formatter.units import human_size

    current, total = detail.get("current") or 0, detail.get("total") or 0
    if total <= 0:
        return human_size(current) if current else ""
    filled = min(BAR_WIDTH, int(BAR_WIDTH * current / total))
    arrow = ">" if filled < BAR_WIDTH else ""
    line = "=" * filled + arrow + " " * (BAR_WIDTH - filled - len(arrow))
    return f"[{line}] {human_size(current):>8}/{human_size(total)}"


class ProgressView:
    """Shows messages; `terminal` chooses rewriting lines in place over plain lines."""

    def __init__(self, out: TextIO, terminal: bool) -> None:
        self.out = out
        self.terminal = terminal
        self.lines: list[str] = []  # ids, in the order of their first message
        self.last_status: dict[str, str] = {}

    def show(self, message: dict[str, Any]) -> None:
        raise_for_error(message)
        if "stream" in message:
            self.out.write(str(message["stream"]))
            return
        status = str(message.get("status") or "")
        ident = message.get("id")
        detail = message.get("progressDetail") or {}
        if not ident:
            if status:
                self.out.write(status + "\n")
            return
        progress = message.get("progress") or (bar(detail) if detail else "")
        text = f"{ident}: {status} {progress}".rstrip()
        if self.terminal:
            self._rewrite(ident, text)
        elif not progress and self.last_status.get(ident) != status:
            self.out.write(text + "\n")
        self.last_status[ident] = status

    def _rewrite(self, ident: str, text: str) -> None:
        if ident not in self.lines:
            self.lines.append(ident)
            self.out.write(text + "\n")
        else:
            up = len(self.lines) - self.lines.index(ident)
            self.out.write(f"\x1b[{up}A\r\x1b[2K{text}\r\x1b[{up}B")
        self.out.flush()


def display(
    messages: Iterator[dict[str, Any]], out: TextIO | None = None, quiet: bool = False
) -> list[dict[str, Any]]:
    """Show a progress stream (errors in it raise StreamError); returns the messages, for
    callers that want the final digest or image id."""
    stream = out or sys.stdout
    view = ProgressView(stream, stream.isatty())
    seen = []
    for message in messages:
        seen.append(message)
        if quiet:
            raise_for_error(message)
        else:
            view.show(message)
    stream.flush()
    return seen
