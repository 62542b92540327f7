"""How the `porter-runtime` command starts and ends: the fast path every container operation
takes (conmon, podman and porterd run the runtime once per create, start, state, kill and
delete).

pip's console-script wrapper imports `re` (a few milliseconds of enum, functools and sre
compilers) to tidy argv[0], and leaves through sys.exit, whose interpreter teardown frees every
object one by one. The command installed instead (porter-runtime/bin/porter-runtime, a script
shipped in the wheel) imports only this module, which imports nothing until the command is
parsed, and leaves through os._exit once its output is flushed: there is nothing to tear down
(no threads, no atexit work, every file written is closed by then).

The interpreter reads and compiles that script on every start (it keeps bytecode for imported
modules only, never for the script it runs), so the script holds only what must run before
Porter's package is imported: it takes its own folder (bin) off sys.path, where the interpreter
put it because pip leaves -I out of the interpreter line it writes (a module there must not
stand in for one of Python's or Porter's); and on an ImportError it names, in one line, the
folder that hides the package from the user (installed inside a 0700 home, say), with code kept
as text and compiled only then. (When the script or its interpreter is what the user cannot
reach, the kernel refuses to start it, and the caller sees EACCES.) Compiled on every start,
that code cost 1.7 million instructions and the script's prose another 0.15 million (valgrind),
of some 30 million for a whole `porter-runtime start`.
"""

from __future__ import annotations

import os
import sys


def launch() -> None:
    """Run porter-runtime with sys.argv and end the process with its exit code.

    The cycle collector is off: a command lives for milliseconds and leaves through
    os._exit, so there is nothing for it to free, and each pass walks every tracked object,
    writing to it. After create forks the init, every page such a write touches is copied
    (the two processes share them until the init execs): measured, a create cost 1.5 ms
    less CPU without it. The one command that runs for long, `events`, turns it back on."""
    import gc

    gc.disable()
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
