"""porter info / porter system info: what the daemon reports about itself."""

from __future__ import annotations

from typing import Any

import click

from porter_cli.command import client, format_option

LINES = (
    ("Containers", "Containers"),
    (" Running", "ContainersRunning"),
    (" Paused", "ContainersPaused"),
    (" Stopped", "ContainersStopped"),
    ("Images", "Images"),
    ("Server Version", "ServerVersion"),
    ("Storage Driver", "Driver"),
    ("Logging Driver", "LoggingDriver"),
    ("Cgroup Driver", "CgroupDriver"),
    ("Cgroup Version", "CgroupVersion"),
    ("Default Runtime", "DefaultRuntime"),
    ("Kernel Version", "KernelVersion"),
    ("Operating System", "OperatingSystem"),
    ("OSType", "OSType"),
    ("Architecture", "Architecture"),
    ("CPUs", "NCPU"),
    ("Total Memory", "MemTotal"),
    ("Name", "Name"),
    ("ID", "ID"),
    ("Docker Root Dir", "DockerRootDir"),
)


def describe(info: dict[str, Any]) -> str:
    from porter_cli.formatter.units import binary_size

    lines = ["Server:"]
    for title, key in LINES:
        if key not in info:
            continue
        value = info[key]
        if key == "MemTotal" and isinstance(value, int):
            value = binary_size(value)
        lines.append(f" {title}: {value}")
    runtimes = info.get("Runtimes") or {}
    if runtimes:
        lines.append(f" Runtimes: {' '.join(sorted(runtimes))}")
    return "\n".join(lines)


@click.command("info")
@format_option()
def command(format_: str | None) -> None:
    """Display system-wide information."""
    info = client().get_json("/info") or {}
    if format_:
        from porter_cli.formatter.output import render_inspect

        click.echo(render_inspect([info], format_))
    else:
        click.echo(describe(info))
