"""porter service logs: the logs of a service's (or one task's) containers, each line after
its task as docker prints it, `NAME.SLOT.TASK@NODE    | MESSAGE`."""

from __future__ import annotations

import sys
from typing import Any
from urllib.parse import unquote

import click

from porter_cli.command import client
from porter_cli.container.logs import log_options, log_params

TASK_KEY, SERVICE_KEY, NODE_KEY = (
    "com.docker.swarm.task.id",
    "com.docker.swarm.service.id",
    "com.docker.swarm.node.id",
)


def parse_details(text: str) -> dict[str, str]:
    """docker's log details, `k=v,k=v` with each part URL-escaped."""
    found = {}
    for pair in text.split(","):
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.ClickException(f"invalid details in log line: {text!r}")
        found[unquote(key)] = unquote(value)
    return found


class Names:
    """The task, service and node names of a line's details, each looked up once."""

    def __init__(self, api: Any, resolve: bool, task_ids: bool, trunc: bool) -> None:
        self.api, self.resolve, self.task_ids, self.trunc = api, resolve, task_ids, trunc
        self._known: dict[tuple[str, str, str], str] = {}

    def of(self, details: dict[str, str]) -> str:
        key = (details[TASK_KEY], details[SERVICE_KEY], details[NODE_KEY])
        if key not in self._known:
            self._known[key] = self._name(*key)
        return self._known[key]

    def _name(self, task_id: str, service_id: str, node_id: str) -> str:
        from porter_cli.client.api import path_part

        shown_task = task_id if not self.trunc else task_id[:12]
        if not self.resolve:
            return f"{service_id}.{shown_task}@{node_id}"
        task = self.api.get_json(f"/tasks/{path_part(task_id)}")
        service = self.api.get_json(f"/services/{path_part(service_id)}")
        node = self.api.get_json(f"/nodes/{path_part(node_id)}")
        name = f"{service['Spec']['Name']}.{task.get('Slot') or 0}"  # as docker's, 0 if global
        if self.task_ids:
            name += f".{shown_task}"
        return f"{name}@{node['Description']['Hostname']}"


@click.command("logs")
@log_options
@click.option("--raw", is_flag=True, help="Do not neatly format logs")
@click.option("--no-resolve", is_flag=True, help="Do not map IDs to Names in output")
@click.option("--no-task-ids", is_flag=True, help="Do not include task IDs in output")
@click.option("--no-trunc", is_flag=True, help="Do not truncate output")
@click.argument("service_or_task")
def command(
    follow: bool,
    timestamps: bool,
    tail: str,
    since: str | None,
    raw: bool,
    no_resolve: bool,
    no_task_ids: bool,
    no_trunc: bool,
    service_or_task: str,
) -> None:
    """Fetch the logs of a service or task."""
    from porter_cli.client.api import path_part
    from porter_cli.client.errors import APIError
    from porter_cli.client.stream import STDERR, demux

    params = log_params(follow, timestamps, tail, since, None, details=True)
    api = client()
    try:
        found = api.get_json(f"/services/{path_part(service_or_task)}")
        path = f"/services/{found['ID']}/logs"
    except APIError as error:
        if error.status != 404:
            raise
        found = api.get_json(f"/tasks/{path_part(service_or_task)}")
        path = f"/tasks/{found['ID']}/logs"
    names = Names(api, not no_resolve, not no_task_ids, not no_trunc)
    response = api.request("GET", path, params)
    with response:
        for kind, payload in demux(response.read):
            target = sys.stderr.buffer if kind == STDERR else sys.stdout.buffer
            target.write(payload if raw else _line(payload, timestamps, names))
            target.flush()


def _line(payload: bytes, timestamps: bool, names: Names) -> bytes:
    parts = payload.split(b" ", 2 if timestamps else 1)
    if len(parts) != (3 if timestamps else 2):
        return payload
    stamp = parts[0] + b" " if timestamps else b""
    details = parse_details(parts[-2].decode(errors="replace"))
    return stamp + names.of(details).encode() + b"    | " + parts[-1]
