"""The state directory: ids, atomic writes, and status derived from the live system."""

import os

import pytest
from porter_runtime import state
from porter_runtime.errors import ContainerExistsError, ContainerNotFoundError, InvalidIdError


def saved(pid, start):
    return {"id": "c", "pid": pid, "startTime": start, "bundle": "/b"}


def test_ids_with_path_characters_are_refused(tmp_path):
    for bad in ("", "..", "a/b", "a b"):
        with pytest.raises(InvalidIdError):
            state.ContainerDir(str(tmp_path), bad)


def test_a_second_create_of_an_id_fails(tmp_path):
    state.ContainerDir(str(tmp_path), "c").create()
    with pytest.raises(ContainerExistsError):
        state.ContainerDir(str(tmp_path), "c").create()


def test_loading_an_unknown_container_fails(tmp_path):
    with pytest.raises(ContainerNotFoundError):
        state.ContainerDir(str(tmp_path), "nope").load()


def test_save_is_atomic_and_leaves_no_temporary_file(tmp_path):
    cdir = state.ContainerDir(str(tmp_path), "c")
    cdir.create()
    cdir.save({"id": "c", "pid": 1})
    assert cdir.load() == {"id": "c", "pid": 1}
    assert os.listdir(cdir.path) == ["state.json"]


def test_living_process_with_fifo_is_created(tmp_path):
    cdir = state.ContainerDir(str(tmp_path), "c")
    cdir.create()
    os.mkfifo(cdir.fifo)
    me = os.getpid()
    assert state.status(saved(me, state.process_start_time(me)), cdir) == "created"


def test_living_process_without_fifo_is_running(tmp_path):
    cdir = state.ContainerDir(str(tmp_path), "c")
    cdir.create()
    me = os.getpid()
    assert state.status(saved(me, state.process_start_time(me)), cdir) == "running"


def test_a_reused_pid_with_another_start_time_is_stopped(tmp_path):
    cdir = state.ContainerDir(str(tmp_path), "c")
    cdir.create()
    me = os.getpid()
    assert state.status(saved(me, state.process_start_time(me) + 1), cdir) == "stopped"


def test_a_dead_pid_is_stopped(tmp_path):
    cdir = state.ContainerDir(str(tmp_path), "c")
    cdir.create()
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    assert state.status(saved(pid, 1), cdir) == "stopped"


def test_public_state_has_no_pid_once_stopped():
    doc = state.public_state(saved(5, 1), "stopped")
    assert doc["pid"] == 0 and doc["status"] == "stopped" and doc["ociVersion"]


def test_remove_deletes_the_directory(tmp_path):
    cdir = state.ContainerDir(str(tmp_path), "c")
    cdir.create()
    cdir.save({"id": "c"})
    os.mkfifo(cdir.fifo)
    cdir.remove()
    assert not os.path.exists(cdir.path)
