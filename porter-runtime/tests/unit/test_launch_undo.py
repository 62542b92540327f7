"""A failing create takes back everything it made, even when one step of the undo fails."""

from __future__ import annotations

import pytest
from porter_runtime import launch


class RecordingCgroup:
    def __init__(self) -> None:
        self.destroyed = False

    def destroy(self) -> None:
        self.destroyed = True


class RecordingDir:
    def __init__(self) -> None:
        self.removed = False

    def remove(self) -> None:
        self.removed = True


def test_a_process_that_cannot_be_reaped_still_lets_the_cgroup_and_directory_go(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(pid: int, timeout: float = 10.0) -> None:
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(launch, "kill_and_reap", refuse)
    cdir, cgroup = RecordingDir(), RecordingCgroup()
    undo = launch.Undo(cdir)  # type: ignore[arg-type]
    undo.cgroup = cgroup
    undo.pids = [4242]
    undo.run()
    assert cgroup.destroyed and cdir.removed
