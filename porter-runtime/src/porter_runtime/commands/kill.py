"""porter-runtime kill: send a signal (name or number) to a container."""

from __future__ import annotations

from porter_runtime.cli.args import FLAG, Command, Option

COMMAND = Command(
    "kill",
    "Send a signal to the container's init (default SIGTERM), or with --all to "
    "every process of the container.",
    (Option("all", ("-a", "--all"), FLAG, help="signal every process of the container"),),
    args=("container-id",),
    rest="signal",
)

_NAMES = {
    "HUP": 1,
    "INT": 2,
    "QUIT": 3,
    "ILL": 4,
    "TRAP": 5,
    "ABRT": 6,
    "IOT": 6,
    "BUS": 7,
    "FPE": 8,
    "KILL": 9,
    "USR1": 10,
    "SEGV": 11,
    "USR2": 12,
    "PIPE": 13,
    "ALRM": 14,
    "TERM": 15,
    "STKFLT": 16,
    "CHLD": 17,
    "CONT": 18,
    "STOP": 19,
    "TSTP": 20,
    "TTIN": 21,
    "TTOU": 22,
    "URG": 23,
    "XCPU": 24,
    "XFSZ": 25,
    "VTALRM": 26,
    "PROF": 27,
    "WINCH": 28,
    "IO": 29,
    "POLL": 29,
    "PWR": 30,
    "SYS": 31,
}
SIGRTMIN, SIGRTMAX = 34, 64


def parse_signal(text: str) -> int:
    """SIGTERM, TERM, term, 15, SIGRTMIN+3, RTMAX-1 -> the signal number."""
    from porter_runtime.errors import UsageError

    if text.isdigit():
        number = int(text)
    else:
        name = text.upper().removeprefix("SIG")
        number = _NAMES.get(name, 0)
        for base, value, sign in (("RTMIN", SIGRTMIN, 1), ("RTMAX", SIGRTMAX, -1)):
            if name.startswith(base):
                offset = name[len(base) :].lstrip("+-")
                number = (
                    value + sign * int(offset) if offset.isdigit() else (value if not offset else 0)
                )
    if not 1 <= number <= SIGRTMAX:
        raise UsageError(f"unknown signal {text!r}")
    return number


def run(ctx: object, opts: object) -> int:
    from porter_runtime.errors import UsageError
    from porter_runtime.lifecycle import kill

    if len(opts.args) > 2:
        raise UsageError("porter-runtime kill: expected <container-id> [signal]")
    signal = parse_signal(opts.args[1]) if len(opts.args) > 1 else 15
    kill(ctx.root, opts.args[0], signal, opts.all)
    return 0
