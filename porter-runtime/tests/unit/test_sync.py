"""The runtime-init channel: JSON lines both ways, descriptors along (SCM_RIGHTS), EOF."""

import os

import pytest
from porter_runtime import sync
from porter_runtime.errors import ContainerSetupError


@pytest.fixture
def ends():
    parent, child = sync.pair()
    yield parent, child
    parent.close()
    child.close()


def test_messages_travel_both_ways(ends):
    parent, child = ends
    child.send("pid", pid=42)
    parent.send("go")
    assert parent.recv() == {"type": "pid", "pid": 42}
    assert child.expect("go") == {"type": "go"}


def test_a_descriptor_travels_with_its_message(ends):
    parent, child = ends
    read_fd, write_fd = os.pipe()
    child.send("seccomp", _fds=(write_fd,))
    os.close(write_fd)
    assert parent.expect("seccomp")["type"] == "seccomp"
    received = parent.take_fd()
    os.write(received, b"x")
    os.close(received)
    assert os.read(read_fd, 1) == b"x"
    os.close(read_fd)


def test_no_descriptor_is_a_clear_error(ends):
    parent, child = ends
    child.send("seccomp")
    parent.recv()
    with pytest.raises(ContainerSetupError, match="no descriptor"):
        parent.take_fd()


def test_end_of_file_when_the_child_end_closes(ends):
    parent, child = ends
    child.close()
    assert parent.recv() is None


def test_both_ends_are_close_on_exec(ends):
    parent, child = ends
    assert not os.get_inheritable(parent.rfd) and not os.get_inheritable(child.rfd)
