"""The container status enum answers which operations each status allows, as dockerd's
state machine does."""

from __future__ import annotations

import pytest
from porterd.containers.status import Status


@pytest.mark.parametrize("status", [Status.CREATED, Status.EXITED])
def test_created_and_exited_containers_can_start(status: Status) -> None:
    assert status.can_start()


@pytest.mark.parametrize("status", [Status.RUNNING, Status.PAUSED, Status.REMOVING, Status.DEAD])
def test_running_paused_or_removed_containers_cannot_start(status: Status) -> None:
    assert not status.can_start()


def test_only_a_running_container_can_be_paused_and_only_a_paused_one_unpaused() -> None:
    assert [s for s in Status if s.can_pause()] == [Status.RUNNING]
    assert [s for s in Status if s.can_unpause()] == [Status.PAUSED]


def test_a_running_container_is_removed_only_with_force() -> None:
    assert not Status.RUNNING.can_remove(force=False)
    assert Status.RUNNING.can_remove(force=True)
    assert Status.EXITED.can_remove(force=False)


def test_a_container_being_removed_cannot_be_removed_again() -> None:
    assert not Status.REMOVING.can_remove(force=True)


def test_exec_needs_a_running_container() -> None:
    assert [s for s in Status if s.can_exec()] == [Status.RUNNING]


def test_paused_and_restarting_containers_count_as_running() -> None:
    assert {s for s in Status if s.is_running()} == {
        Status.RUNNING,
        Status.PAUSED,
        Status.RESTARTING,
    }
