"""Default devices, linux.devices, and the /dev symlinks."""

import os
import stat

import pytest
from porter_runtime import devices
from porter_runtime import syscalls as sc
from porter_runtime.errors import ConfigError
from porter_runtime.syscalls.fake import RecordingSyscalls


def test_default_devices_are_the_specs_six():
    paths = [d["path"] for d in devices.device_list([])]
    assert paths == [
        "/dev/null",
        "/dev/zero",
        "/dev/full",
        "/dev/random",
        "/dev/urandom",
        "/dev/tty",
    ]


def test_config_device_replaces_the_default_of_its_path():
    custom = {"path": "/dev/null", "type": "c", "major": 1, "minor": 3, "fileMode": 0o600}
    listed = devices.device_list([custom])
    assert [d for d in listed if d["path"] == "/dev/null"] == [custom]


def test_unknown_device_type_is_an_error():
    with pytest.raises(ConfigError, match="unknown type"):
        devices.device_list([{"path": "/dev/x", "type": "q"}])


def test_devices_are_made_with_mknod_and_their_mode(tmp_path):
    calls = RecordingSyscalls()
    devices.create_devices(
        calls,
        str(tmp_path),
        [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o600}],
        bind=False,
    )
    (call,) = calls.named("mknod")
    assert call[1] == f"{tmp_path}/dev/fuse"
    assert call[2] == stat.S_IFCHR | 0o600 and call[3:] == (10, 229)


def test_in_a_user_namespace_devices_are_bound_from_the_host(tmp_path):
    calls = RecordingSyscalls()
    devices.create_devices(calls, str(tmp_path), devices.device_list([])[:1], bind=True)
    assert not calls.named("mknod")
    assert calls.named("mount") == [
        ("mount", "/dev/null", f"{tmp_path}/dev/null", "bind", sc.MS_BIND, "")
    ]


def test_symlinks_include_fd_stdio_and_ptmx(tmp_path):
    devices.create_symlinks(str(tmp_path), with_ptmx=True)
    dev = tmp_path / "dev"
    assert os.readlink(dev / "fd") == "/proc/self/fd"
    assert os.readlink(dev / "stdin") == "/proc/self/fd/0"
    assert os.readlink(dev / "stderr") == "/proc/self/fd/2"
    assert os.readlink(dev / "ptmx") == "pts/ptmx"
