"""Pull and push progress: one rewritten line per layer on a terminal, plain status lines
otherwise."""

from __future__ import annotations

import io

import pytest
from porter_cli.client.errors import StreamError
from porter_cli.progress import ProgressView, bar, display

MESSAGES = [
    {"status": "Pulling from library/busybox", "id": "latest"},
    {"status": "Pulling fs layer", "id": "aaa"},
    {"status": "Pulling fs layer", "id": "bbb"},
    {"status": "Downloading", "id": "aaa", "progressDetail": {"current": 500, "total": 1000}},
    {"status": "Downloading", "id": "aaa", "progressDetail": {"current": 1000, "total": 1000}},
    {"status": "Pull complete", "id": "aaa"},
    {"status": "Digest: sha256:abc"},
]


def test_plain_output_has_one_line_per_status_and_no_progress_bars() -> None:
    out = io.StringIO()
    view = ProgressView(out, terminal=False)
    for message in MESSAGES:
        view.show(message)
    assert out.getvalue().splitlines() == [
        "latest: Pulling from library/busybox",
        "aaa: Pulling fs layer",
        "bbb: Pulling fs layer",
        "aaa: Pull complete",
        "Digest: sha256:abc",
    ]


def test_a_terminal_gets_each_layers_line_rewritten_in_place() -> None:
    out = io.StringIO()
    view = ProgressView(out, terminal=True)
    for message in MESSAGES[:4]:
        view.show(message)
    text = out.getvalue()
    # aaa is two lines up from the cursor when its progress arrives: up 2, rewrite, down 2
    assert "\x1b[2A\r\x1b[2Kaaa: Downloading [=========================>" in text
    assert text.endswith("500B/1kB\r\x1b[2B")


def test_the_bar_fills_with_the_share_done() -> None:
    assert bar({"current": 1000, "total": 1000}).startswith("[" + "=" * 50 + "]")
    assert bar({"current": 0, "total": 1000}).startswith("[>" + " " * 49 + "]")


def test_an_error_in_the_stream_stops_the_display() -> None:
    messages = iter(
        [{"status": "Pulling"}, {"error": "denied", "errorDetail": {"message": "denied"}}]
    )
    with pytest.raises(StreamError, match="denied"):
        display(messages, io.StringIO())


def test_load_output_is_the_streams_text() -> None:
    out = io.StringIO()
    display(iter([{"stream": "Loaded image: a:1\n"}]), out)
    assert out.getvalue() == "Loaded image: a:1\n"
