"""`events` streams an {"type": "oom"} event when the container's memory cgroup runs out."""

import json
import subprocess
import time
from pathlib import Path


def start_events(runtime_binary, runtime, cid, out):
    """`events` in the background, once it has printed its first statistics event (by then
    its OOM watch is registered)."""
    proc = subprocess.Popen(
        [runtime_binary, "--root", runtime.root, "events", "--interval", "1s", cid],
        stdout=out,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and b'"stats"' not in Path(out.name).read_bytes():
        time.sleep(0.02)
    return proc


def events_of_a_run(runtime, bundle, runtime_binary, path):
    """Create the container, stream its events into `path`, start it, and return every event
    once it has stopped (events ends with it)."""
    cid = runtime.new_id()
    runtime("create", "--bundle", str(bundle), cid)
    with open(path, "wb") as out:
        proc = start_events(runtime_binary, runtime, cid, out)
        try:
            runtime("start", cid)
            proc.wait(timeout=30)
        finally:
            proc.kill()
            proc.wait()
    with open(path) as f:
        return cid, [json.loads(line) for line in f if line.strip()]


def test_events_reports_oom_of_a_memory_limited_container(
    runtime, bundle, runtime_binary, tmp_path
):
    bundle.config["linux"]["resources"]["memory"] = {"limit": 8 << 20}
    bundle.run_args("/bin/busybox", "tail", "/dev/zero")  # keeps one endless "line": grows
    cid, events = events_of_a_run(runtime, bundle, runtime_binary, tmp_path / "events.jsonl")
    assert events[0]["type"] == "stats" and events[0]["id"] == cid
    assert {"type": "oom", "id": cid} in events


def test_events_without_oom_reports_only_statistics(runtime, bundle, runtime_binary, tmp_path):
    bundle.config["linux"]["resources"]["memory"] = {"limit": 64 << 20}
    bundle.run_args("sleep", "1")
    _, events = events_of_a_run(runtime, bundle, runtime_binary, tmp_path / "events.jsonl")
    assert {e["type"] for e in events} == {"stats"}
