"""porter service logs: how a line's docker details become its `NAME.SLOT.TASK@NODE | ` prefix."""

from __future__ import annotations

from typing import Any

import click
import pytest
from porter_cli.service.logs import Names, _line, parse_details

DETAILS = (
    b"com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,"
    b"com.docker.swarm.task.id=t123456789012345"
)


class FakeApi:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def get_json(self, path: str) -> dict[str, Any]:
        self.asked.append(path)
        return {
            "/tasks/t123456789012345": {"Slot": 2},
            "/services/s1": {"Spec": {"Name": "web"}},
            "/nodes/n1": {"Description": {"Hostname": "host1"}},
        }[path]


def test_details_are_url_unescaped() -> None:
    assert parse_details("a%3Db=c%2Cd,e=f") == {"a=b": "c,d", "e": "f"}


def test_details_without_a_value_are_an_error() -> None:
    with pytest.raises(click.ClickException):
        parse_details("a=b,c")


def test_a_line_is_prefixed_with_service_slot_task_and_node_names() -> None:
    names = Names(FakeApi(), resolve=True, task_ids=True, trunc=True)
    assert _line(DETAILS + b" hello\n", False, names) == b"web.2.t12345678901@host1    | hello\n"


def test_without_resolving_the_ids_are_shown() -> None:
    api = FakeApi()
    names = Names(api, resolve=False, task_ids=True, trunc=False)
    assert _line(DETAILS + b" hi\n", False, names) == b"s1.t123456789012345@n1    | hi\n"
    assert api.asked == []


def test_the_timestamp_stays_before_the_name_and_task_ids_can_be_left_out() -> None:
    names = Names(FakeApi(), resolve=True, task_ids=False, trunc=True)
    line = b"2026-12-07T00:00:00Z " + DETAILS + b" x\n"
    assert _line(line, True, names) == b"2026-12-07T00:00:00Z web.2@host1    | x\n"


def test_each_task_is_looked_up_once() -> None:
    api = FakeApi()
    names = Names(api, resolve=True, task_ids=True, trunc=True)
    _line(DETAILS + b" a\n", False, names)
    _line(DETAILS + b" b\n", False, names)
    assert len(api.asked) == 3
