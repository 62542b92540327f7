"""The one place where porter's errors become a message line and an exit code, as docker's:

0    success
1    a command failed (an error from the daemon, a bad argument value)
125  the daemon could not run the container (run, create), or a usage error
126  the container's command cannot be invoked
127  the container's command is not found
N    otherwise `run`, `start -a`, `wait` ... exit with the container's own code
130  interrupted
"""

from __future__ import annotations

from porter_specs.errors import PorterError

USAGE_EXIT = 125
DAEMON_EXIT = 125
CANNOT_INVOKE_EXIT = 126
NOT_FOUND_EXIT = 127


class CliError(PorterError):
    """A failure to report as one line with `exit_code`."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class ExitStatus(Exception):
    """Leave with this exit code (the container's own, or 1 after errors already shown), printing
    nothing more."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def start_failure_code(message: str) -> int:
    """docker's mapping of a failed start to 126/127/125 by what the runtime said."""
    text = message.lower()
    # runc's words as docker matches them, and porter-runtime's ("executable '...': not found")
    if "no such file or directory" in text or ("executable" in text and "not found" in text):
        return NOT_FOUND_EXIT
    if "permission denied" in text:
        return CANNOT_INVOKE_EXIT
    return DAEMON_EXIT


def exit_code(error: BaseException) -> int:
    if isinstance(error, CliError):
        return error.exit_code
    return 1


def message(error: BaseException) -> str:
    """The one line a user sees."""
    if isinstance(error, OSError) and error.strerror:
        where = error.filename
        return f"{where}: {error.strerror}" if where else error.strerror
    text = str(error)
    return text.splitlines()[0] if text else type(error).__name__
