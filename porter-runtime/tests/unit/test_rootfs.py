"""Mount setup through the recording syscalls: what is mounted where, with which flags."""

import errno
import os

import pytest
from porter_runtime import rootfs
from porter_runtime import syscalls as sc
from porter_runtime.cgroups import paths
from porter_runtime.errors import ConfigError
from porter_runtime.syscalls.fake import RecordingSyscalls


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "rootfs"
    r.mkdir()
    return r


def ctx(root, **kw):
    return rootfs.MountContext(str(root), str(root.parent), **kw)


def test_prepare_root_makes_root_rslave_and_rootfs_a_mount_point(root):
    calls = RecordingSyscalls()
    rootfs.prepare_root(calls, str(root), "")
    assert calls.calls[0] == ("mount", "", "/", "", sc.MS_SLAVE | sc.MS_REC, "")
    assert calls.calls[1] == ("mount", str(root), str(root), "bind", sc.MS_BIND | sc.MS_REC, "")


def test_rootfs_propagation_private_is_applied_to_root(root):
    calls = RecordingSyscalls()
    rootfs.prepare_root(calls, str(root), "private")
    assert calls.calls[0][4] == sc.MS_PRIVATE


@pytest.mark.parametrize("propagation", ["shared", "unbindable"])
def test_shared_and_unbindable_leave_the_namespace_rslave_until_after_pivot(root, propagation):
    calls = RecordingSyscalls()
    rootfs.prepare_root(calls, str(root), propagation)
    assert calls.calls == [
        ("mount", "", "/", "", sc.MS_SLAVE | sc.MS_REC, ""),
        ("mount", str(root), str(root), "bind", sc.MS_BIND | sc.MS_REC, ""),
    ]


@pytest.mark.parametrize(
    ("propagation", "flag"), [("shared", sc.MS_SHARED), ("unbindable", sc.MS_UNBINDABLE)]
)
def test_shared_and_unbindable_are_applied_to_the_new_root(propagation, flag):
    calls = RecordingSyscalls()
    rootfs.apply_root_propagation(calls, propagation)
    assert calls.calls == [("mount", "", "/", "", flag, "")]


@pytest.mark.parametrize("propagation", ["", "private", "slave"])
def test_other_propagations_are_done_before_pivot(propagation):
    calls = RecordingSyscalls()
    rootfs.apply_root_propagation(calls, propagation)
    assert calls.calls == []


def test_without_a_mount_namespace_the_host_root_is_left_alone(root):
    calls = RecordingSyscalls()
    rootfs.prepare_root(calls, str(root), "", host_ns=True)
    assert calls.calls == [
        ("mount", str(root), str(root), "bind", sc.MS_BIND | sc.MS_REC, ""),
        ("mount", "", str(root), "", sc.MS_PRIVATE | sc.MS_REC, ""),
    ]


def test_without_a_mount_namespace_rootfs_propagation_applies_to_the_rootfs(root):
    calls = RecordingSyscalls()
    rootfs.prepare_root(calls, str(root), "rslave", host_ns=True)
    assert calls.calls[1] == ("mount", "", str(root), "", sc.MS_SLAVE | sc.MS_REC, "")


def test_tmpfs_mount_gets_flags_and_data_on_the_resolved_destination(root):
    calls = RecordingSyscalls()
    rootfs.mount_one(
        calls,
        ctx(root),
        {
            "destination": "/dev",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "mode=755", "size=65536k"],
        },
    )
    assert calls.named("mount") == [
        ("mount", "tmpfs", f"{root}/dev", "tmpfs", sc.MS_NOSUID, "mode=755,size=65536k")
    ]
    assert (root / "dev").is_dir()


def test_a_mount_with_nothing_to_finish_is_looked_up_once(root, monkeypatch):
    """No remount, propagation, attributes or copy-up: the destination is walked to once, for
    the mount itself (create waits on every walk through the rootfs)."""
    walks = []
    real = rootfs.open_in_root
    monkeypatch.setattr(
        rootfs, "open_in_root", lambda *args, **kw: walks.append(args[1]) or real(*args, **kw)
    )
    entry = {"destination": "/dev/shm", "type": "tmpfs", "options": ["nosuid", "nodev"]}
    rootfs.mount_one(RecordingSyscalls(), ctx(root), entry)
    assert walks == ["/dev/shm"]


def test_bind_of_a_file_creates_a_file_mount_point(root, tmp_path):
    source = tmp_path / "hosts"
    source.write_text("x")
    calls = RecordingSyscalls()
    rootfs.mount_one(
        calls,
        ctx(root),
        {"destination": "/etc/hosts", "type": "bind", "source": str(source), "options": ["rbind"]},
    )
    assert (root / "etc" / "hosts").is_file()
    assert calls.calls[0] == (
        "mount",
        str(source),
        f"{root}/etc/hosts",
        "",
        sc.MS_BIND | sc.MS_REC,
        "",
    )


def test_read_only_bind_is_remounted_read_only(root, tmp_path):
    calls = RecordingSyscalls()
    rootfs.mount_one(
        calls,
        ctx(root),
        {"destination": "/data", "source": str(tmp_path), "options": ["bind", "ro", "nosuid"]},
    )
    first, second = calls.named("mount")
    assert first[4] == sc.MS_BIND
    assert second[4] == sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY | sc.MS_NOSUID


def test_relative_bind_source_is_relative_to_the_bundle(root):
    (root.parent / "data").mkdir()
    calls = RecordingSyscalls()
    rootfs.mount_one(calls, ctx(root), {"destination": "/d", "source": "data", "options": ["bind"]})
    assert calls.calls[0][1] == str(root.parent / "data")


def test_missing_bind_source_is_a_clear_error(root):
    with pytest.raises(ConfigError, match="does not exist"):
        rootfs.mount_one(
            RecordingSyscalls(),
            ctx(root),
            {"destination": "/d", "source": "/nonexistent-src", "options": ["bind"]},
        )


def test_propagation_option_is_a_second_call_on_the_new_mount(root, tmp_path):
    calls = RecordingSyscalls()
    rootfs.mount_one(
        calls,
        ctx(root),
        {"destination": "/d", "source": str(tmp_path), "options": ["rbind", "rshared"]},
    )
    assert calls.named("mount")[-1] == ("mount", "", f"{root}/d", "", sc.MS_SHARED | sc.MS_REC, "")


def test_recursive_read_only_uses_mount_setattr(root, tmp_path):
    calls = RecordingSyscalls()
    rootfs.mount_one(
        calls,
        ctx(root),
        {"destination": "/d", "source": str(tmp_path), "options": ["rbind", "rro"]},
    )
    assert calls.named("mount_setattr") == [
        ("mount_setattr", f"{root}/d", sc.MOUNT_ATTR_RDONLY, 0, True)
    ]


def test_destination_through_a_symlink_stays_in_the_rootfs(root, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(str(outside), root / "link")
    calls = RecordingSyscalls()
    rootfs.mount_one(
        calls, ctx(root), {"destination": "/link/x", "type": "tmpfs", "source": "tmpfs"}
    )
    target = calls.named("mount")[0][2]
    assert target.startswith(str(root) + "/")
    assert not (outside / "x").exists()


def test_sysfs_not_permitted_falls_back_to_binding_the_hosts(root):
    calls = RecordingSyscalls()
    calls.fail = {}
    original = calls.mount

    def mount(source, target, fstype, flags, data):
        if fstype == "sysfs":
            calls.calls.append(("mount-refused", fstype))
            from porter_runtime.errors import SyscallError

            raise SyscallError("mount", target, errno.EPERM)
        original(source, target, fstype, flags, data)

    calls.mount = mount
    rootfs.mount_one(
        calls,
        ctx(root),
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["ro"]},
    )
    mounts = calls.named("mount")
    assert mounts[0][1] == "/sys" and mounts[0][4] == sc.MS_BIND | sc.MS_REC
    assert mounts[1][4] & sc.MS_RDONLY


def test_dev_setup_skipped_when_dev_is_bound_from_elsewhere():
    assert not rootfs.needs_dev_setup([{"destination": "/dev", "type": "bind", "source": "/dev"}])
    assert rootfs.needs_dev_setup([{"destination": "/dev", "type": "tmpfs"}])


def test_masked_file_gets_dev_null_and_masked_dir_a_read_only_tmpfs(tmp_path):
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("secret")
    calls = RecordingSyscalls()
    rootfs.mask_paths(
        calls, [str(tmp_path / "file"), str(tmp_path / "dir"), str(tmp_path / "absent")]
    )
    assert calls.named("mount") == [
        ("mount", "/dev/null", str(tmp_path / "file"), "", sc.MS_BIND, ""),
        ("mount", "tmpfs", str(tmp_path / "dir"), "tmpfs", sc.MS_RDONLY, ""),
    ]


def test_readonly_path_is_bound_onto_itself_then_remounted_read_only(tmp_path):
    calls = RecordingSyscalls()
    rootfs.readonly_paths(calls, [str(tmp_path)])
    bind, remount = calls.named("mount")
    assert bind[1] == bind[2] == str(tmp_path) and bind[4] == sc.MS_BIND | sc.MS_REC
    assert remount[4] == sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY | sc.MS_REC


def test_pivot_root_detaches_the_old_root(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    calls = RecordingSyscalls()
    old = os.getcwd()
    try:
        rootfs.pivot(calls, str(tmp_path), no_pivot=False)
    finally:
        os.chdir(old)
    names = [c[0] for c in calls.calls]
    assert names == ["pivot_root", "mount", "umount2"]
    assert calls.calls[2] == ("umount2", ".", sc.MNT_DETACH)


def test_cgroup_mount_uses_the_mount_table_the_runtime_read(root, monkeypatch):
    def unread(*args):
        raise AssertionError("the mount table was read again")

    monkeypatch.setattr(paths, "visible_mounts", unread)
    monkeypatch.setattr(paths, "own_cgroups", lambda: {"pids": "/ctr"})
    host = [
        paths.Mount("/sys/fs/cgroup", "tmpfs", "/", "rw"),
        paths.Mount("/sys/fs/cgroup/pids", "cgroup", "/", "rw,pids"),
    ]
    calls = RecordingSyscalls()
    context = ctx(root, cgroupns=True, host_mounts=host)
    rootfs.mount_cgroup(calls, context, "/sys/fs/cgroup", rootfs.mountopts.parse(["nosuid"]))
    pids = f"{root}/sys/fs/cgroup/pids"
    assert calls.named("mount")[-1] == ("mount", "cgroup", pids, "cgroup", sc.MS_NOSUID, "pids")
