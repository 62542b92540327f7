"""porter-runtime events: resource statistics of a container, once or every interval."""

from __future__ import annotations

from porter_runtime.cli.args import FLAG, VALUE, Command, Option

COMMAND = Command(
    "events",
    "Print a container's events as JSON lines: statistics every --interval and "
    "out-of-memory events as they happen, until it stops (--stats: one statistics event).",
    (
        Option("stats", ("--stats",), FLAG, help="print one statistics event and exit"),
        Option(
            "interval",
            ("--interval",),
            VALUE,
            "5s",
            "time between events (e.g. 5s, 500ms)",
            "duration",
        ),
    ),
)


def parse_duration(text: str) -> float:
    from porter_runtime.errors import UsageError

    for suffix, scale in (("ms", 0.001), ("s", 1.0), ("m", 60.0)):
        if text.endswith(suffix):
            try:
                value = float(text[: -len(suffix)]) * scale
            except ValueError:
                break
            if value > 0:
                return value
            break
    raise UsageError(f"porter-runtime events: bad --interval {text!r} (like 5s or 500ms)")


def run(ctx: object, opts: object) -> int:
    import gc

    from porter_runtime.control import events

    gc.enable()  # a stream that runs until stopped (the launcher turns it off: launcher.py)
    interval = parse_duration(opts.interval)
    events(ctx.root, opts.args[0], once=opts.stats, interval=interval)
    return 0
