"""What a start prepares besides the runtime's work: the files it writes beside the bundle
(kept once written, written again when empty) and the loopback of a container's own network."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from porterd.containers.bundle import _write_if_missing, loopback_up


def test_a_file_written_by_an_earlier_start_is_kept(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text("10.0.0.9\tdb\n")  # changed inside the container since
    _write_if_missing(hosts, "127.0.0.1\tlocalhost\n")
    assert hosts.read_text() == "10.0.0.9\tdb\n"


def test_a_missing_file_is_written(tmp_path: Path) -> None:
    _write_if_missing(tmp_path / "hostname", "web\n")
    assert (tmp_path / "hostname").read_text() == "web\n"
    assert [p.name for p in tmp_path.iterdir()] == ["hostname"]  # no temp file left


def test_an_empty_file_left_by_a_power_cut_is_written_again(tmp_path: Path) -> None:
    hostname = tmp_path / "hostname"
    hostname.touch()  # renamed into place, its data never flushed
    _write_if_missing(hostname, "web\n")
    assert hostname.read_text() == "web\n"


@pytest.mark.skipif(
    os.geteuid() != 0 or not all(shutil.which(tool) for tool in ("unshare", "nsenter", "ip")),
    reason="a network namespace of its own needs root, unshare, nsenter and ip",
)
def test_the_loopback_of_the_container_s_network_namespace_is_brought_up() -> None:
    holder = subprocess.Popen(["unshare", "--net", "sleep", "60"])
    try:
        until_entered = time.monotonic() + 10
        own = os.stat("/proc/self/ns/net").st_ino
        while os.stat(f"/proc/{holder.pid}/ns/net").st_ino == own:  # unshare has not run yet
            assert time.monotonic() < until_entered
            time.sleep(0.01)
        loopback_up(holder.pid)
        shown = subprocess.run(
            ["nsenter", f"--net=/proc/{holder.pid}/ns/net", "ip", "-o", "link", "show", "lo"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert ",UP," in shown
    finally:
        holder.kill()
        holder.wait()
