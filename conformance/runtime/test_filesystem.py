"""Root, mounts, masked and read-only paths, devices (config.md, config-linux.md)."""

from __future__ import annotations

import errno

import pytest

from conformance.runtime.hostfs import MountEntry, find_mount, parse_mountinfo

pytestmark = pytest.mark.integration

DEFAULT_FILESYSTEMS = {"/proc": "proc", "/sys": "sysfs", "/dev/pts": "devpts", "/dev/shm": "tmpfs"}
DEFAULT_DEVICES = {
    "/dev/null": (1, 3),
    "/dev/zero": (1, 5),
    "/dev/full": (1, 7),
    "/dev/random": (1, 8),
    "/dev/urandom": (1, 9),
    "/dev/tty": (5, 0),
}
DEFAULT_SYMLINKS = {
    "/dev/fd": "/proc/self/fd",
    "/dev/stdin": "/proc/self/fd/0",
    "/dev/stdout": "/proc/self/fd/1",
    "/dev/stderr": "/proc/self/fd/2",
    "/dev/ptmx": "pts/ptmx",
}


def _mount(report: dict, point: str) -> MountEntry:
    entry = find_mount(parse_mountinfo(report["mountinfo"]), point)
    assert entry is not None, f"nothing mounted at {point}"
    return entry


@pytest.fixture(scope="module")
def default_report():
    """Probe reports are cached per runtime: the default container is the same for many checks."""
    return {}


def _default(lab, cache) -> dict:
    if lab.runtime.name not in cache:
        cache[lab.runtime.name] = lab.probe(lab.bundle())
    return cache[lab.runtime.name]


@pytest.mark.parametrize("point", list(DEFAULT_FILESYSTEMS))
def test_default_filesystem_is_mounted(lab, default_report, point):
    report = _default(lab, default_report)
    assert _mount(report, point).fstype == DEFAULT_FILESYSTEMS[point]


@pytest.mark.parametrize("path", list(DEFAULT_DEVICES))
def test_default_device_exists(lab, default_report, path):
    device = _default(lab, default_report)["dev"].get(path)
    assert device is not None, f"{path} missing"
    assert (device["type"], device["major"], device["minor"]) == ("c", *DEFAULT_DEVICES[path])


@pytest.mark.parametrize("path", ["/dev/null", "/dev/zero", "/dev/full", "/dev/urandom"])
def test_default_device_is_usable(lab, path):
    """The device cgroup must let the default devices through even under a deny-all rule."""
    access = lab.probe(lab.bundle(), "--access", path)["access"][path]
    assert (access["read_errno"], access["write_errno"]) == (0, 0)


@pytest.mark.parametrize("path", list(DEFAULT_SYMLINKS))
def test_default_dev_symlink_exists(lab, default_report, path):
    entry = _default(lab, default_report)["dev"].get(path)
    assert entry is not None, f"{path} missing"
    assert (entry["type"], entry["target"]) == ("l", DEFAULT_SYMLINKS[path])


def test_linux_device_is_created_with_its_attributes(lab):
    bundle = lab.bundle()
    bundle.linux["devices"] = [
        {
            "path": "/dev/fuse",
            "type": "c",
            "major": 10,
            "minor": 229,
            "fileMode": 0o620,
            "uid": 1000,
            "gid": 1001,
        }
    ]
    device = lab.probe(bundle)["dev"]["/dev/fuse"]
    assert (device["type"], device["major"], device["minor"]) == ("c", 10, 229)
    assert (device["mode"], device["uid"], device["gid"]) == (0o620, 1000, 1001)


def test_linux_block_device_is_created(lab):
    bundle = lab.bundle()
    bundle.linux["devices"] = [{"path": "/dev/conf-loop", "type": "b", "major": 7, "minor": 0}]
    device = lab.probe(bundle)["dev"]["/dev/conf-loop"]
    assert (device["type"], device["major"], device["minor"]) == ("b", 7, 0)


@pytest.mark.parametrize("path", ["/proc/kcore", "/proc/keys", "/sys/firmware"])
def test_default_masked_path_is_not_readable(lab, path):
    report = lab.probe(lab.bundle(), "--access", path)
    assert not report["access"][path].get("readable", False)


def _rootfs_secrets(bundle) -> None:
    secret_dir = bundle.rootfs / "etc" / "secret-dir"
    secret_dir.mkdir()
    (secret_dir / "content").write_text("secret\n")
    (bundle.rootfs / "etc" / "secret-file").write_text("secret\n")


@pytest.mark.parametrize("path", ["/etc/secret-dir", "/etc/secret-file"])
def test_masked_path_hides_content(lab, path):
    bundle = lab.bundle()
    _rootfs_secrets(bundle)
    bundle.linux["maskedPaths"] = [path]
    access = lab.probe(bundle, "--access", path)["access"][path]
    assert access["exists"] and not access["readable"]


def test_masked_path_that_does_not_exist_is_ignored(lab):
    bundle = lab.bundle()
    bundle.linux["maskedPaths"] = ["/no/such/path"]
    assert lab.probe(bundle)["pid"] == 1


def test_default_readonly_path_file_is_not_writable(lab):
    path = "/proc/sys/kernel/hostname"
    access = lab.probe(lab.bundle(), "--access", path)["access"][path]
    assert access["exists"] and access["write_errno"] == errno.EROFS


@pytest.mark.parametrize("path", ["/proc/sys", "/proc/fs", "/proc/irq", "/proc/bus"])
def test_default_readonly_path_is_a_readonly_mount(lab, default_report, path):
    assert "ro" in _mount(_default(lab, default_report), path).options


@pytest.mark.parametrize("path", ["/etc/secret-dir", "/etc/secret-file"])
def test_readonly_path_is_readable_not_writable(lab, path):
    bundle = lab.bundle()
    _rootfs_secrets(bundle)
    bundle.linux["readonlyPaths"] = [path]
    access = lab.probe(bundle, "--access", path)["access"][path]
    assert access["readable"]
    assert access["write_errno"] == errno.EROFS


def test_root_readonly_forbids_writes(lab):
    bundle = lab.bundle()
    bundle.config["root"]["readonly"] = True
    report = lab.probe(bundle, "--write", "/new-file")
    assert report["writes"]["/new-file"] == errno.EROFS
    assert "ro" in _mount(report, "/").options


def test_no_pivot_still_keeps_the_container_inside_its_rootfs(lab):
    """`create --no-pivot` (runc's flag: chroot instead of pivot_root) runs the process
    with the rootfs as its root: the host's files stay out of sight."""
    bundle = lab.bundle()
    host_only = str(lab.workdir)  # this suite's own folder on the host
    bundle.config["process"]["args"] = ["/probe", "--access", host_only]
    report = lab.container(bundle).run_to_exit("--no-pivot").report()
    assert not report["access"][host_only]["exists"]
    assert _mount(report, "/proc").fstype == "proc"


def test_root_writable_by_default(lab):
    report = lab.probe(lab.bundle(), "--write", "/new-file")
    assert report["writes"]["/new-file"] == 0


def test_tmpfs_mount_with_options(lab):
    bundle = lab.bundle()
    bundle.config["mounts"].append(
        {
            "destination": "/scratch",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["size=1m", "mode=700", "nosuid", "nodev", "noexec"],
        }
    )
    entry = _mount(lab.probe(bundle), "/scratch")
    assert entry.fstype == "tmpfs"
    assert {"nosuid", "nodev", "noexec"} <= entry.options
    assert "size=1024k" in entry.super_options and "mode=700" in entry.super_options


def _host_share(lab, bundle):
    shared = lab.workdir / f"{bundle.path.name}-share"
    shared.mkdir(mode=0o755)
    (shared / "from-host").write_text("host data\n")
    return shared


@pytest.mark.parametrize("kind", ["bind", "rbind"])
def test_bind_mount_shows_host_directory(lab, kind):
    bundle = lab.bundle()
    shared = _host_share(lab, bundle)
    bundle.config["mounts"].append(
        {"destination": "/data", "type": "bind", "source": str(shared), "options": [kind]}
    )
    report = lab.probe(bundle, "--file", "/data/from-host")
    assert report["files"]["/data/from-host"] == "host data\n"


def test_bind_mount_readonly_option(lab):
    bundle = lab.bundle()
    shared = _host_share(lab, bundle)
    bundle.config["mounts"].append(
        {"destination": "/data", "type": "bind", "source": str(shared), "options": ["rbind", "ro"]}
    )
    report = lab.probe(bundle, "--write", "/data/new")
    assert report["writes"]["/data/new"] == errno.EROFS
    assert not (shared / "new").exists()


@pytest.mark.parametrize("flag", ["nosuid", "noexec", "nodev"])
def test_bind_mount_flag_option(lab, flag):
    bundle = lab.bundle()
    shared = _host_share(lab, bundle)
    bundle.config["mounts"].append(
        {"destination": "/data", "type": "bind", "source": str(shared), "options": ["bind", flag]}
    )
    assert flag in _mount(lab.probe(bundle), "/data").options


def test_mount_destination_is_created(lab):
    bundle = lab.bundle()
    bundle.config["mounts"].append(
        {"destination": "/deep/new/dir", "type": "tmpfs", "source": "tmpfs", "options": []}
    )
    assert _mount(lab.probe(bundle), "/deep/new/dir").fstype == "tmpfs"


def test_mounts_are_applied_in_order(lab):
    bundle = lab.bundle()
    shared = _host_share(lab, bundle)
    bundle.config["mounts"] += [
        {"destination": "/stack", "type": "tmpfs", "source": "tmpfs", "options": []},
        {"destination": "/stack/inner", "type": "bind", "source": str(shared), "options": ["bind"]},
    ]
    report = lab.probe(bundle, "--file", "/stack/inner/from-host")
    assert report["files"]["/stack/inner/from-host"] == "host data\n"


def _propagation(entry: MountEntry) -> str:
    tags = {tag.split(":")[0] for tag in entry.optional}
    if "shared" in tags:
        return "shared"
    if "master" in tags:
        return "slave"
    return "unbindable" if "unbindable" in tags else "private"


# A slave of a private host mount has no master, so it shows as private.
ROOTFS_PROPAGATION = {"shared": {"shared"}, "private": {"private"}, "slave": {"slave", "private"}}


@pytest.mark.parametrize("mode", list(ROOTFS_PROPAGATION))
def test_rootfs_propagation_is_applied(lab, mode):
    bundle = lab.bundle()
    bundle.linux["rootfsPropagation"] = mode
    assert _propagation(_mount(lab.probe(bundle), "/")) in ROOTFS_PROPAGATION[mode]


def test_rootfs_propagation_unbindable(lab):
    bundle = lab.bundle()
    bundle.linux["rootfsPropagation"] = "unbindable"
    assert _propagation(_mount(lab.probe(bundle), "/")) == "unbindable"


MOUNT_PROPAGATION = {"rshared": "shared", "rprivate": "private", "shared": "shared"}


@pytest.mark.parametrize("option", list(MOUNT_PROPAGATION))
def test_bind_mount_propagation_option(lab, option):
    bundle = lab.bundle()
    shared = _host_share(lab, bundle)
    bundle.config["mounts"].append(
        {
            "destination": "/data",
            "type": "bind",
            "source": str(shared),
            "options": ["rbind", option],
        }
    )
    assert _propagation(_mount(lab.probe(bundle), "/data")) == MOUNT_PROPAGATION[option]
