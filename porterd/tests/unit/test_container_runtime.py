"""What porterd knows of a runtime's containers without running it."""

from __future__ import annotations

from pathlib import Path

from porterd.containers.runtime import OciRuntime


def test_a_runtime_holds_a_container_while_its_root_has_the_container_s_folder(
    tmp_path: Path,
) -> None:
    runtime = OciRuntime("runc", "/usr/sbin/runc", tmp_path)
    assert not runtime.holds("abc")
    (tmp_path / "abc").mkdir()  # as `runc --root ROOT create abc` leaves it
    assert runtime.holds("abc")
    assert not runtime.holds("abd")
