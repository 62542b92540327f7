"""Building the container's filesystem: root propagation, mounts, /dev, pivot_root, masks.

Every mount lands on an O_PATH descriptor obtained by `securejoin.open_in_root`, never on a
path string, so mounts stay inside the rootfs. All calls go through a syscall object (real or
recording) so that this module is unit-tested without root.
"""

from __future__ import annotations

import os

from porter_runtime import devices, mountopts
from porter_runtime import syscalls as sc
from porter_runtime.errors import ConfigError, SyscallError
from porter_runtime.securejoin import open_in_root

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at every runtime start
    from collections.abc import Iterator

_ST_TO_MS = (
    (0x2, sc.MS_NOSUID),
    (0x4, sc.MS_NODEV),
    (0x8, sc.MS_NOEXEC),
    (0x400, sc.MS_NOATIME),
    (0x800, sc.MS_NODIRATIME),
    (0x1000, sc.MS_RELATIME),
)
_EPERM = 1
_CGROUP_FS = ("cgroup", "cgroup2")


class MountContext:
    """What mount setup needs to know about the container beyond each mount."""

    __slots__ = ("bundle", "cgroupns", "host_mounts", "mount_label", "rootfs", "userns")

    def __init__(
        self,
        rootfs: str,
        bundle: str,
        userns: bool = False,
        cgroupns: bool = False,
        mount_label: str = "",
        host_mounts: list | None = None,
    ) -> None:
        self.rootfs = rootfs
        self.bundle = bundle
        self.userns = userns
        self.cgroupns = cgroupns
        self.mount_label = mount_label
        # the runtime's visible mounts (cgroups.paths.visible_mounts), when the init's mount
        # namespace is a copy of the runtime's made after they were read: where the cgroup
        # hierarchies are, without reading and parsing the mount table a second time
        self.host_mounts = host_mounts


def _fdpath(fd: int) -> str:
    return f"/proc/self/fd/{fd}"


# rootfsPropagation that is applied to the container's "/" only once it is the root:
# pivot_root refuses a shared new root or parent, and nothing can be bound from an unbindable
# mount, so applying these to the namespace's "/" first (as runc 1.1 does) leaves the
# container's "/" private, or fails the rootfs bind with EINVAL.
_AFTER_PIVOT = sc.MS_SHARED | sc.MS_UNBINDABLE


def prepare_root(calls: object, rootfs: str, propagation: str, host_ns: bool = False) -> None:
    """Stop mounts leaking to the host, then make the rootfs a mount point of its own.

    With `host_ns` (no mount namespace of the container's own) the host's "/" is left as
    it is: the rootfs is bound onto itself and made private (or given rootfsPropagation),
    so every later mount sits beneath that one bind mount and `delete` detaches them all.
    Shared and unbindable wait for `apply_root_propagation`; until then the namespace
    stays a slave of the host's, which pivot_root accepts."""
    default = sc.MS_PRIVATE | sc.MS_REC if host_ns else sc.MS_SLAVE | sc.MS_REC
    flags = mountopts.PROPAGATION.get(propagation, default) if propagation else default
    if host_ns:
        calls.mount(rootfs, rootfs, "bind", sc.MS_BIND | sc.MS_REC, "")
        calls.mount("", rootfs, "", flags, "")
        return
    calls.mount("", "/", "", default if flags & _AFTER_PIVOT else flags, "")
    calls.mount(rootfs, rootfs, "bind", sc.MS_BIND | sc.MS_REC, "")


def apply_root_propagation(calls: object, propagation: str) -> None:
    """rootfsPropagation shared or unbindable, on "/" after pivot_root and after the last
    bind mount of the container's own filesystem (masked and read-only paths bind too)."""
    flags = mountopts.PROPAGATION.get(propagation, 0) if propagation else 0
    if flags & _AFTER_PIVOT:
        calls.mount("", "/", "", flags, "")


def mount_all(calls: object, ctx: MountContext, mounts: list[dict]) -> None:
    for entry in mounts:
        try:
            mount_one(calls, ctx, entry)
        except SyscallError as exc:
            raise ConfigError(f"mount {entry.get('destination')}", str(exc)) from exc


def _source(ctx: MountContext, entry: dict, is_bind: bool) -> str:
    source = entry.get("source") or ""
    if is_bind and source and not source.startswith("/"):
        source = os.path.join(ctx.bundle, source)
    if is_bind and not os.path.exists(source):
        raise ConfigError(f"mount {entry.get('destination')}", f"source {source!r} does not exist")
    return source


def mount_one(calls: object, ctx: MountContext, entry: dict) -> None:
    """One mount of config.json's `mounts`, with every option applied."""
    dest = entry.get("destination")
    if not dest:
        raise ConfigError("mount", "destination is required")
    opts = mountopts.parse(entry.get("options") or [])
    fstype = entry.get("type") or ""
    is_bind = bool(opts.flags & sc.MS_BIND) or fstype in ("bind", "rbind")
    if fstype == "rbind":
        opts.flags |= sc.MS_BIND | sc.MS_REC
    if fstype == "cgroup" or fstype == "cgroup2":
        return mount_cgroup(calls, ctx, dest, opts)
    source = _source(ctx, entry, is_bind)
    kind = "file" if is_bind and not os.path.isdir(source) else "dir"
    fd = open_in_root(ctx.rootfs, dest, create=kind)
    copyup = -1
    try:
        if "tmpcopyup" in opts.extensions and fstype == "tmpfs":
            copyup = os.open(_fdpath(fd), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        flags = opts.flags & ~sc.PROPAGATION_FLAGS
        if is_bind:
            calls.mount(source, _fdpath(fd), "", sc.MS_BIND | (flags & sc.MS_REC), "")
        else:
            data = _with_label(opts.data, ctx.mount_label, fstype)
            _mount_fs(calls, ctx, source or fstype, fd, fstype, flags, data)
    finally:
        os.close(fd)
    _finish(calls, ctx, dest, opts, is_bind, copyup)


def _mount_fs(
    calls: object, ctx: MountContext, source: str, fd: int, fstype: str, flags: int, data: str
) -> None:
    """A filesystem mount; sysfs and mqueue fall back to binding the host's when not allowed."""
    try:
        calls.mount(source, _fdpath(fd), fstype, flags, data)
    except SyscallError as exc:
        fallback = {"sysfs": "/sys", "mqueue": "/dev/mqueue"}.get(fstype)
        if exc.errno != _EPERM or fallback is None:
            raise
        calls.mount(fallback, _fdpath(fd), "", sc.MS_BIND | sc.MS_REC, "")
        _remount(calls, _fdpath(fd), flags & ~sc.MS_REC, True)


def _finish(
    calls: object,
    ctx: MountContext,
    dest: str,
    opts: mountopts.MountOptions,
    is_bind: bool,
    copyup: int,
) -> None:
    """Steps on the new mount itself: remount flags, copy-up, propagation, recursive attrs.
    Most mounts need none of them, and are not looked up again (a walk through the rootfs
    with its checks, on the path every create waits on)."""
    extra = opts.flags & ~(sc.MS_BIND | sc.MS_REC | sc.MS_REMOUNT | sc.PROPAGATION_FLAGS)
    attrs = opts.attr_set or opts.attr_clear
    if copyup < 0 and not (is_bind and extra) and not opts.propagation and not attrs:
        return
    fd = open_in_root(ctx.rootfs, dest)
    try:
        if copyup >= 0:
            _copy_up(copyup, fd)
        if is_bind and extra:
            _remount(calls, _fdpath(fd), extra, ctx.userns)
        for flag in opts.propagation:
            calls.mount("", _fdpath(fd), "", flag, "")
        if attrs:
            calls.mount_setattr(fd, opts.attr_set, opts.attr_clear, True)
    finally:
        os.close(fd)


def _copy_up(source_fd: int, target_fd: int) -> None:
    """tmpcopyup: what the directory held before the tmpfs covered it is copied into it."""
    import shutil

    try:
        shutil.copytree(_fdpath(source_fd), _fdpath(target_fd), symlinks=True, dirs_exist_ok=True)
    finally:
        os.close(source_fd)


def _remount(calls: object, target: str, flags: int, userns: bool) -> None:
    """Apply flags to the bind mount at `target` (a /proc/self/fd path); in a user namespace
    keep the flags the kernel locked."""
    try:
        calls.mount("", target, "", sc.MS_BIND | sc.MS_REMOUNT | flags, "")
    except SyscallError as exc:
        if exc.errno != _EPERM:
            raise
        calls.mount("", target, "", sc.MS_BIND | sc.MS_REMOUNT | flags | _locked(target), "")


def _locked(target: str) -> int:
    current = os.statvfs(target).f_flag
    return sum(ms for st, ms in _ST_TO_MS if current & st)


def _with_label(data: str, label: str, fstype: str) -> str:
    if not label or fstype in ("proc", "sysfs") or not os.path.isdir("/sys/fs/selinux"):
        return data
    context = f'context="{label}"'
    return f"{data},{context}" if data else context


def mount_cgroup(calls: object, ctx: MountContext, dest: str, opts: mountopts.MountOptions) -> None:
    """The container's view of its cgroups: cgroup2 directly, or v1 hierarchies on a tmpfs."""
    flags = opts.flags & ~(sc.MS_BIND | sc.MS_REC | sc.PROPAGATION_FLAGS)
    from porter_runtime.cgroups import is_unified
    from porter_runtime.cgroups.paths import own_cgroups, visible_mounts

    mounts = visible_mounts() if ctx.host_mounts is None else ctx.host_mounts
    own = own_cgroups()  # the container's, since the init joined them
    if is_unified(mounts=mounts):
        fd = open_in_root(ctx.rootfs, dest, create="dir")
        try:
            _mount_hierarchy(calls, ctx, _fdpath(fd), "/sys/fs/cgroup", "cgroup2", "", own, 0)
        finally:
            os.close(fd)
        if flags & ~sc.MS_REMOUNT:
            fd = open_in_root(ctx.rootfs, dest)  # the new mount, to apply the flags to
            try:
                _remount(calls, _fdpath(fd), flags & ~sc.MS_REMOUNT, ctx.userns)
            finally:
                os.close(fd)
        return
    fd = open_in_root(ctx.rootfs, dest, create="dir")
    try:
        calls.mount("tmpfs", _fdpath(fd), "tmpfs", flags & ~sc.MS_RDONLY, "mode=755")
    finally:
        os.close(fd)
    # the tmpfs is new and nothing of the container runs yet: its subdirectories are ours,
    # reached through the descriptor of its root without resolving the destination again
    fd = open_in_root(ctx.rootfs, dest)
    try:
        for mount in mounts:
            if not mount.point.startswith("/sys/fs/cgroup/") or mount.fstype not in _CGROUP_FS:
                continue
            name = os.path.basename(mount.point)
            os.mkdir(name, 0o755, dir_fd=fd)
            options = mount.options if mount.fstype == "cgroup" else ""
            options = ",".join(o for o in options.split(",") if o in own)
            target = f"{_fdpath(fd)}/{name}"
            _mount_hierarchy(calls, ctx, target, mount.point, mount.fstype, options, own, flags)
        if flags & sc.MS_RDONLY:
            calls.mount("", _fdpath(fd), "", sc.MS_REMOUNT | flags, "mode=755")
    finally:
        os.close(fd)


def _mount_hierarchy(
    calls: object,
    ctx: MountContext,
    target: str,
    host_point: str,
    fstype: str,
    options: str,
    own: dict[str, str],
    flags: int,
) -> None:
    """One hierarchy at `target`, a path that reaches the mount it makes: mounted afresh in
    a cgroup namespace, else the container's own subtree bound. `options` names a v1
    hierarchy's controllers (its key in `own`, this process's cgroups)."""
    if ctx.cgroupns:
        calls.mount(fstype, target, fstype, flags, options)
        return
    key = options.split(",")[0] if fstype == "cgroup" else ""
    path = own.get(key, "/") if fstype == "cgroup2" or options else "/"
    source = host_point + path if os.path.isdir(host_point + path) else host_point
    calls.mount(source, target, "", sc.MS_BIND | sc.MS_REC, "")
    extra = flags & ~sc.MS_REMOUNT
    if extra:
        _remount(calls, target, extra, ctx.userns)


def setup_dev(calls: object, ctx: MountContext, config_devices: list[dict]) -> None:
    """Default and configured device nodes, then the /dev symlinks."""
    devices.create_devices(calls, ctx.rootfs, devices.device_list(config_devices), ctx.userns)
    devices.create_symlinks(ctx.rootfs, with_ptmx=True)


def needs_dev_setup(mounts: list[dict]) -> bool:
    """False when the config binds a whole /dev from elsewhere (then it is left alone)."""
    for entry in mounts:
        if entry.get("destination", "").rstrip("/") == "/dev" and (
            entry.get("type") == "bind"
            or "bind" in (entry.get("options") or [])
            or "rbind" in (entry.get("options") or [])
        ):
            return False
    return True


def pivot(calls: object, rootfs: str, no_pivot: bool, host_ns: bool = False) -> None:
    """Make rootfs the root: pivot_root(".", ".") and detach the old root, or MS_MOVE+chroot.

    In the host's mount namespace only chroot is safe: pivot_root would move the root of
    every host process, MS_MOVE would cover the host's "/"."""
    os.chdir(rootfs)
    if host_ns:
        os.chroot(".")
        os.chdir("/")
        return
    if no_pivot:
        calls.mount(rootfs, "/", "", sc.MS_MOVE, "")
        os.chroot(".")
        os.chdir("/")
        return
    oldroot = os.open("/", os.O_DIRECTORY | os.O_RDONLY | os.O_CLOEXEC)
    try:
        calls.pivot_root(".", ".")
        os.fchdir(oldroot)
        calls.mount("", ".", "", sc.MS_SLAVE | sc.MS_REC, "")
        calls.umount2(".", sc.MNT_DETACH)
    finally:
        os.close(oldroot)
    os.chdir("/")


def readonly_root(calls: object) -> None:
    fd = os.open("/", os.O_PATH | os.O_CLOEXEC)
    try:
        _remount(calls, _fdpath(fd), sc.MS_RDONLY, True)
    finally:
        os.close(fd)


def _existing(paths: list[str], what: str) -> Iterator[tuple[str, int]]:
    """(path, O_PATH descriptor) of each path that exists; a missing one is skipped, as runc
    does. The descriptor is closed when the caller moves on."""
    for path in paths:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise ConfigError(f"{what} {path}", exc.strerror or "cannot open") from exc
        try:
            yield path, fd
        finally:
            os.close(fd)


def mask_paths(calls: object, paths: list[str]) -> None:
    """Hide each path: /dev/null over files, an empty read-only tmpfs over directories."""
    for _, fd in _existing(paths, "masked path"):
        if os.path.isdir(_fdpath(fd)):
            calls.mount("tmpfs", _fdpath(fd), "tmpfs", sc.MS_RDONLY, "")
        else:
            calls.mount("/dev/null", _fdpath(fd), "", sc.MS_BIND, "")


def readonly_paths(calls: object, paths: list[str]) -> None:
    """Bind each path onto itself and remount it read-only (recursively)."""
    for path, fd in _existing(paths, "readonly path"):
        calls.mount(_fdpath(fd), _fdpath(fd), "", sc.MS_BIND | sc.MS_REC, "")
        mounted = os.open(path, os.O_PATH | os.O_CLOEXEC)  # the new mount, not the one below
        try:
            _remount(calls, _fdpath(mounted), sc.MS_RDONLY | sc.MS_REC, True)
        finally:
            os.close(mounted)
