"""porter's entry point: `porter ps`, `images` and `version` run without click
(porter_cli.quick), every other command under the click group of porter_cli.cli; errors
become one line and docker's exit code (porter_cli.errors); and the process ends without
tearing the interpreter down when nothing is left to run.

A listing is a few milliseconds of work behind the interpreter's start, so what start-up
imports is most of what `porter ps` costs: the installed command is a script of the wheel's
own (porterd/bin/porter; the console-script wrapper of older pips imports re), this module
imports nothing of click, and the process ends through os._exit once the output is flushed.
The interpreter's own exit frees every object of every module one by one (some 6 ms after
click's imports), and has nothing else to do when no thread is left running and nothing
waits in atexit."""

from __future__ import annotations

import os
import sys

from porter_cli import errors


def main(argv: list[str] | None = None) -> None:
    """The `porter` command: run one command (sys.argv's unless `argv`), then exit with its
    code."""
    finish(run(argv))


def run(argv: list[str] | None = None) -> int:
    """Run one command; its exit code."""
    from porter_specs.errors import PorterError

    from porter_cli.quick import run_quick

    args = sys.argv[1:] if argv is None else list(argv)
    try:
        code = run_quick(args)
        if code is None:
            from porter_cli.cli import invoke

            code = invoke(args)
    except errors.ExitStatus as status:
        code = status.code
    except BrokenPipeError:
        code = quiet_broken_pipe()
    except (PorterError, OSError) as error:
        sys.stderr.write(f"porter: {errors.message(error)}\n")
        code = errors.exit_code(error)
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        code = 130
    return code


def finish(code: int) -> None:
    """Flush the output and end the process with `code`: through os._exit when nothing is
    left to run (no other thread, nothing registered with atexit), else through sys.exit."""
    try:
        if sys.stdout is not None:  # None: started with stdout closed
            sys.stdout.flush()
    except BrokenPipeError:
        code = quiet_broken_pipe()
    except OSError as error:  # a full disk under a redirected stdout: the output is lost
        if sys.stderr is not None:
            sys.stderr.write(f"porter: writing the output: {error.strerror or error}\n")
        code = code or 1
    try:
        if sys.stderr is not None:
            sys.stderr.flush()
    except OSError:  # stderr is what failed: there is nowhere left to say it
        code = code or 1
    if nothing_left_to_run():
        os._exit(code)
    sys.exit(code)


def nothing_left_to_run() -> bool:
    """True when the interpreter's exit would only free memory: no thread but this one, and
    no atexit function (logging's flush, weakref finalizers of temporary folders, ...)."""
    import atexit

    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        return False
    pending = getattr(atexit, "_ncallbacks", None)  # CPython's count of registered functions
    return pending is not None and pending() == 0


def quiet_broken_pipe() -> int:
    """The reader of stdout went away (`porter logs x | head`): exit 1 without a word, as
    click does when a write fails so, and without a traceback from flushing at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 1
