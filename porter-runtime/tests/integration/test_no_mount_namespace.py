"""A container without a mount namespace of its own (runtime-tools linux_ns_itype): it shares
the host's mount table, as the runtime-spec says, is chrooted into its rootfs, and delete
takes every mount it made back."""

import json
import os
import shutil

import pytest


@pytest.fixture
def own_rootfs_bundle(bundle, tmp_path, busybox_rootfs):
    """The bundle with a rootfs of its own: its mounts show in the host's table at a path no
    other test uses."""
    os.unlink(bundle.path / "rootfs")
    shutil.copytree(busybox_rootfs, bundle.path / "rootfs", symlinks=True)
    linux = bundle.config["linux"]
    linux["namespaces"] = [n for n in linux["namespaces"] if n["type"] != "mount"]
    bundle.write()
    return bundle


def mounts_under(path) -> list[str]:
    real = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    return [p for p in points if p == real or p.startswith(real + "/")]


def test_container_without_mount_namespace_runs_in_its_rootfs(runtime, own_rootfs_bundle):
    own_rootfs_bundle.run_args("sh", "-c", "ls /; readlink /proc/1/ns/mnt")
    out = runtime("run", "--bundle", str(own_rootfs_bundle), runtime.new_id()).stdout.split()
    assert "busybox" not in out and "bin" in out and "proc" in out
    assert out[-1] == os.readlink("/proc/self/ns/mnt")


def test_delete_unmounts_everything_the_container_mounted(runtime, own_rootfs_bundle):
    rootfs = own_rootfs_bundle.path / "rootfs"
    before = mounts_under(rootfs)
    cid = runtime.new_id()
    runtime("create", "--bundle", str(own_rootfs_bundle), cid)
    during = mounts_under(rootfs)
    assert len(during) > len(before) + 3  # rootfs bind, /proc, /dev, /sys, ...
    runtime("delete", "--force", cid)
    assert mounts_under(rootfs) == before


def test_host_root_propagation_is_left_alone(runtime, own_rootfs_bundle):
    def root_line():
        with open("/proc/self/mountinfo") as f:
            return next(line for line in f if line.split()[4] == "/")

    before = root_line()
    cid = runtime.new_id()
    runtime("create", "--bundle", str(own_rootfs_bundle), cid)
    assert root_line() == before
    runtime("delete", "--force", cid)


def test_failed_create_leaves_no_mount(runtime, own_rootfs_bundle, leftovers):
    rootfs = own_rootfs_bundle.path / "rootfs"
    before = mounts_under(rootfs)
    own_rootfs_bundle.config["mounts"].append(
        {"destination": "/x", "type": "nosuchfs", "source": "x"}
    )
    own_rootfs_bundle.write()
    cid = runtime.new_id()
    result = runtime("create", "--bundle", str(own_rootfs_bundle), cid, check=False)
    assert result.returncode != 0 and "mount /x" in result.stderr
    assert mounts_under(rootfs) == before
    assert leftovers(cid, runtime.root) == []


def test_exec_enters_the_container_root(runtime, own_rootfs_bundle):
    own_rootfs_bundle.run_args("sleep", "30")
    cid = runtime.new_id()
    runtime("run", "-d", "--bundle", str(own_rootfs_bundle), cid)
    out = runtime("exec", cid, "ls", "/").stdout.split()
    assert "bin" in out and "work" not in out and "usr" not in out
    state = json.loads(runtime("state", cid).stdout)
    assert state["status"] == "running"
