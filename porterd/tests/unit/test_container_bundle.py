"""The files a start writes beside the bundle: kept once written, written again when empty."""

from __future__ import annotations

from pathlib import Path

from porterd.containers.bundle import _write_if_missing


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
