"""porter system df: disk usage of images, containers and volumes."""

from __future__ import annotations

from typing import Any

import click

from porter_cli.command import client, format_option

DEFAULT = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"
HEADERS = {
    "Type": "TYPE",
    "TotalCount": "TOTAL",
    "Active": "ACTIVE",
    "Size": "SIZE",
    "Reclaimable": "RECLAIMABLE",
}


def summary(kind: str, items: list[dict[str, Any]], size_of: Any, active: Any) -> dict[str, Any]:
    from porter_cli.formatter.units import human_size

    total = sum(size_of(item) for item in items)
    in_use = [item for item in items if active(item)]
    reclaimable = total - sum(size_of(item) for item in in_use)
    percent = f" ({reclaimable * 100 // total}%)" if total else ""
    return {
        "Type": kind,
        "TotalCount": str(len(items)),
        "Active": str(len(in_use)),
        "Size": human_size(total),
        "Reclaimable": f"{human_size(reclaimable)}{percent}",
    }


@click.command("df")
@format_option()
def command(format_: str | None) -> None:
    """Show disk usage."""
    from porter_cli.formatter.output import echo_rows

    usage = client().get_json("/system/df") or {}
    rows = [
        summary(
            "Images",
            usage.get("Images") or [],
            lambda i: i.get("Size") or 0,
            lambda i: (i.get("Containers") or 0) > 0,
        ),
        summary(
            "Containers",
            usage.get("Containers") or [],
            lambda c: c.get("SizeRw") or 0,
            lambda c: c.get("State") == "running",
        ),
        summary(
            "Local Volumes",
            usage.get("Volumes") or [],
            lambda v: max(0, (v.get("UsageData") or {}).get("Size") or 0),
            lambda v: ((v.get("UsageData") or {}).get("RefCount") or 0) > 0,
        ),
    ]
    echo_rows(rows, format_, DEFAULT, HEADERS)
