"""How the `porter-runtime` command starts and ends: the fast path every container operation
takes (conmon, podman and porterd run the runtime once per create, start, state, kill and
delete).

pip's console-script wrapper imports `re` (a few milliseconds of enum, functools and sre
compilers) to tidy argv[0], and leaves through sys.exit, whose interpreter teardown frees every
object one by one. The command installed instead (porter-runtime/bin/porter-runtime, a script
shipped in the wheel) imports only this module, which imports nothing until the command is
parsed, and leaves through os._exit once its output is flushed: there is nothing to tear down
(no threads, no atexit work, every file written is closed by then).
"""

from __future__ import annotations

import os
import sys


def launch() -> None:
    """Run porter-runtime with sys.argv and end the process with its exit code."""
    from porter_runtime.cli import main

    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError as exc:  # a closed or full stdout: the output is lost, the command failed
            code = code or 1
            message = f"porter-runtime: error: writing {stream.name}: {exc.strerror or exc}\n"
            try:  # noqa: SIM105 (contextlib would be one more import on every start)
                os.write(2, message.encode())
            except OSError:  # stderr is what failed: there is nowhere left to say it
                pass
    os._exit(code)
