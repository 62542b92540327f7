"""porter stats / porter container stats: CPU, memory, network, block I/O and pids per
container, computed from the Engine API's stats as docker computes them."""

from __future__ import annotations

from typing import Any

import click

from porter_cli.command import client, format_option

DEFAULT = (
    "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}"
    "\t{{.BlockIO}}\t{{.PIDs}}"
)
HEADERS = {
    "ID": "CONTAINER ID",
    "Container": "CONTAINER",
    "Name": "NAME",
    "CPUPerc": "CPU %",
    "MemUsage": "MEM USAGE / LIMIT",
    "MemPerc": "MEM %",
    "NetIO": "NET I/O",
    "BlockIO": "BLOCK I/O",
    "PIDs": "PIDS",
}


def cpu_percent(stats: dict[str, Any]) -> float:
    cpu, pre = stats.get("cpu_stats") or {}, stats.get("precpu_stats") or {}
    cpu_delta = (cpu.get("cpu_usage") or {}).get("total_usage", 0) - (
        pre.get("cpu_usage") or {}
    ).get("total_usage", 0)
    system_delta = (cpu.get("system_cpu_usage") or 0) - (pre.get("system_cpu_usage") or 0)
    online = (
        cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or []) or 1
    )
    if cpu_delta <= 0 or system_delta <= 0:
        return 0.0
    return cpu_delta / system_delta * online * 100.0


def memory(stats: dict[str, Any]) -> tuple[float, float]:
    """(usage without the page cache, limit) in bytes."""
    mem = stats.get("memory_stats") or {}
    detail = mem.get("stats") or {}
    cache = detail.get("inactive_file", detail.get("total_inactive_file", 0))
    return max(0, (mem.get("usage") or 0) - cache), mem.get("limit") or 0


def row(stats: dict[str, Any]) -> dict[str, Any]:
    from porter_cli.formatter.units import binary_size, human_size

    used, limit = memory(stats)
    networks = (stats.get("networks") or {}).values()
    rx = sum(n.get("rx_bytes", 0) for n in networks)
    tx = sum(n.get("tx_bytes", 0) for n in networks)
    blkio = (stats.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []
    read = sum(e.get("value", 0) for e in blkio if str(e.get("op", "")).lower() == "read")
    write = sum(e.get("value", 0) for e in blkio if str(e.get("op", "")).lower() == "write")
    ident = stats.get("id", "")
    return {
        "ID": ident[:12],
        "Container": ident[:12],
        "Name": (stats.get("name") or "").lstrip("/"),
        "CPUPerc": f"{cpu_percent(stats):.2f}%",
        "MemUsage": f"{binary_size(used)} / {binary_size(limit)}",
        "MemPerc": f"{used / limit * 100 if limit else 0:.2f}%",
        "NetIO": f"{human_size(rx)} / {human_size(tx)}",
        "BlockIO": f"{human_size(read)} / {human_size(write)}",
        "PIDs": str((stats.get("pids_stats") or {}).get("current", 0)),
    }


@click.command("stats")
@click.option(
    "-a", "--all", "all_", is_flag=True, help="Show all containers (default shows just running)"
)
@click.option(
    "--no-stream", is_flag=True, help="Disable streaming stats and only pull the first result"
)
@click.option("--no-trunc", is_flag=True, help="Do not truncate output")
@format_option()
@click.argument("containers", nargs=-1)
def command(
    all_: bool, no_stream: bool, no_trunc: bool, format_: str | None, containers: tuple[str, ...]
) -> None:
    """Display a live stream of container(s) resource usage statistics."""
    import time

    from porter_cli.client.api import path_part
    from porter_cli.formatter.output import render_rows

    api = client()
    names = list(containers) or [
        c["Id"] for c in api.get_json("/containers/json", {"all": all_ or None}) or []
    ]
    while True:
        rows = [
            row(api.get_json(f"/containers/{path_part(name)}/stats", {"stream": False}))
            for name in names
        ]
        text = render_rows(rows, format_, DEFAULT, HEADERS)
        if no_stream:
            click.echo(text)
            return
        click.echo("\x1b[2J\x1b[H" + text)
        time.sleep(0.5)
