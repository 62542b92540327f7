"""What the OCI runtime's refusal to start a process means for the client, as dockerd tells it.

dockerd (daemon/start.go, translateContainerdStartErr) reads the runtime's message: a command
that is not there (or a path with no such file) is the client's mistake, a 400, and the
container's exit code is 127; a file that cannot be run (permission denied, a directory) is a
400 with 126; a path that is not a directory (a working directory that is a file, a mount of a
file on a directory) is a 400 with 127. Anything else is the daemon's failure, a 500 with 128.

The docker CLI (and porter) then exit with 127 or 126 by the words of the message ("executable
file not found", "no such file or directory"; "permission denied", "is a directory"), so the
message carries docker's words for its kind whatever runtime spoke: porter-runtime's own
("executable 'x': not found in the container") get them put in front.
"""

from __future__ import annotations

from dataclasses import dataclass

from porterd.errors import DaemonError, InvalidParameter

NOT_FOUND_EXIT, CANNOT_INVOKE_EXIT = 127, 126
UNKNOWN_EXIT = 128  # dockerd's exit code of a container whose start failed for another reason


@dataclass(frozen=True)
class StartFailure:
    """One classified refusal: the error to answer with and the exit code to record."""

    error: DaemonError
    exit_code: int


# (what the runtime's message holds, docker's words for it, the exit code); the first match wins
_KINDS: tuple[tuple[tuple[str, ...], str, int], ...] = (
    (("executable file not found", "no such file or directory"), "", NOT_FOUND_EXIT),
    (("not found in the container",), "executable file not found in $PATH", NOT_FOUND_EXIT),
    (("permission denied", "is a directory"), "", CANNOT_INVOKE_EXIT),
    (("not a directory",), "", NOT_FOUND_EXIT),
)


def classify(what: str, runtime_line: str) -> StartFailure:
    """The answer to a start (or exec start) the runtime refused with `runtime_line`;
    `what` names the object, e.g. "cannot start container ID"."""
    line = " ".join(runtime_line.split()) or "the runtime failed"
    text = line.lower()
    for needles, docker_words, code in _KINDS:
        if any(needle in text for needle in needles):
            detail = f"{docker_words}: {line}" if docker_words else line
            return StartFailure(InvalidParameter(f"{what}: {detail}"), code)
    return StartFailure(DaemonError(f"{what}: {line}"), UNKNOWN_EXIT)
