"""Splitting a mount's options into flags, propagation, recursive attributes and data.

The same split as runc's parseMountOptions: every mount(8) option that maps to a mount(2)
flag sets or clears that flag; propagation options are applied in a second call; the
recursive options (rro, rnosuid, ...) become mount_setattr(2) attributes; everything else is
passed to the filesystem as its data string, in order.
"""

from __future__ import annotations

from porter_runtime import syscalls as sc

# option -> (clear?, flag)
FLAGS: dict[str, tuple[bool, int]] = {
    "async": (True, sc.MS_SYNCHRONOUS),
    "atime": (True, sc.MS_NOATIME),
    "bind": (False, sc.MS_BIND),
    "defaults": (False, 0),
    "dev": (True, sc.MS_NODEV),
    "diratime": (True, sc.MS_NODIRATIME),
    "dirsync": (False, sc.MS_DIRSYNC),
    "exec": (True, sc.MS_NOEXEC),
    "iversion": (False, sc.MS_I_VERSION),
    "lazytime": (False, sc.MS_LAZYTIME),
    "loud": (True, sc.MS_SILENT),
    "mand": (False, sc.MS_MANDLOCK),
    "noatime": (False, sc.MS_NOATIME),
    "nodev": (False, sc.MS_NODEV),
    "nodiratime": (False, sc.MS_NODIRATIME),
    "noexec": (False, sc.MS_NOEXEC),
    "noiversion": (True, sc.MS_I_VERSION),
    "nolazytime": (True, sc.MS_LAZYTIME),
    "nomand": (True, sc.MS_MANDLOCK),
    "norelatime": (True, sc.MS_RELATIME),
    "nostrictatime": (True, sc.MS_STRICTATIME),
    "nosuid": (False, sc.MS_NOSUID),
    "nosymfollow": (False, sc.MS_NOSYMFOLLOW),
    "rbind": (False, sc.MS_BIND | sc.MS_REC),
    "relatime": (False, sc.MS_RELATIME),
    "remount": (False, sc.MS_REMOUNT),
    "ro": (False, sc.MS_RDONLY),
    "rw": (True, sc.MS_RDONLY),
    "silent": (False, sc.MS_SILENT),
    "strictatime": (False, sc.MS_STRICTATIME),
    "suid": (True, sc.MS_NOSUID),
    "symfollow": (True, sc.MS_NOSYMFOLLOW),
    "sync": (False, sc.MS_SYNCHRONOUS),
}

PROPAGATION: dict[str, int] = {
    "private": sc.MS_PRIVATE,
    "shared": sc.MS_SHARED,
    "slave": sc.MS_SLAVE,
    "unbindable": sc.MS_UNBINDABLE,
    "rprivate": sc.MS_PRIVATE | sc.MS_REC,
    "rshared": sc.MS_SHARED | sc.MS_REC,
    "rslave": sc.MS_SLAVE | sc.MS_REC,
    "runbindable": sc.MS_UNBINDABLE | sc.MS_REC,
}

# recursive option -> (clear?, mount_setattr attribute)
RECURSIVE: dict[str, tuple[bool, int]] = {
    "rro": (False, sc.MOUNT_ATTR_RDONLY),
    "rrw": (True, sc.MOUNT_ATTR_RDONLY),
    "rnosuid": (False, sc.MOUNT_ATTR_NOSUID),
    "rsuid": (True, sc.MOUNT_ATTR_NOSUID),
    "rnodev": (False, sc.MOUNT_ATTR_NODEV),
    "rdev": (True, sc.MOUNT_ATTR_NODEV),
    "rnoexec": (False, sc.MOUNT_ATTR_NOEXEC),
    "rexec": (True, sc.MOUNT_ATTR_NOEXEC),
    "rnodiratime": (False, sc.MOUNT_ATTR_NODIRATIME),
    "rdiratime": (True, sc.MOUNT_ATTR_NODIRATIME),
    "rrelatime": (False, sc.MOUNT_ATTR_RELATIME),
    "rnorelatime": (True, sc.MOUNT_ATTR_RELATIME),
    "rnoatime": (False, sc.MOUNT_ATTR_NOATIME),
    "ratime": (True, sc.MOUNT_ATTR_NOATIME),
    "rstrictatime": (False, sc.MOUNT_ATTR_STRICTATIME),
    "rnostrictatime": (True, sc.MOUNT_ATTR_STRICTATIME),
    "rnosymfollow": (False, sc.MOUNT_ATTR_NOSYMFOLLOW),
    "rsymfollow": (True, sc.MOUNT_ATTR_NOSYMFOLLOW),
}

# runtime-level options that are not handed to the kernel
EXTENSIONS = frozenset({"tmpcopyup", "idmap", "ridmap"})


class MountOptions:
    """The parsed options of one mount (immutable by convention; built by `parse`)."""

    __slots__ = ("attr_clear", "attr_set", "data", "extensions", "flags", "propagation")

    def __init__(
        self,
        flags: int,
        propagation: list[int],
        attr_set: int,
        attr_clear: int,
        data: str,
        extensions: frozenset[str],
    ) -> None:
        self.flags = flags
        self.propagation = propagation
        self.attr_set = attr_set
        self.attr_clear = attr_clear
        self.data = data
        self.extensions = extensions

    def __repr__(self) -> str:
        return (
            f"MountOptions(flags={self.flags:#x}, propagation={self.propagation}, "
            f"attr_set={self.attr_set:#x}, attr_clear={self.attr_clear:#x}, "
            f"data={self.data!r}, extensions={sorted(self.extensions)})"
        )


def parse(options: list[str]) -> MountOptions:
    """Split mount(8)-style options; later options win over earlier ones, as in mount(8)."""
    flags = 0
    propagation: list[int] = []
    attr_set = attr_clear = 0
    data: list[str] = []
    extensions: set[str] = set()
    for option in options:
        if option in FLAGS:
            clear, flag = FLAGS[option]
            flags = flags & ~flag if clear else flags | flag
        elif option in PROPAGATION:
            propagation.append(PROPAGATION[option])
        elif option in RECURSIVE:
            clear, attr = RECURSIVE[option]
            if attr == sc.MOUNT_ATTR_RELATIME or attr in (
                sc.MOUNT_ATTR_NOATIME,
                sc.MOUNT_ATTR_STRICTATIME,
            ):
                # the atime attributes are one field: setting one clears the others
                attr_clear |= sc.MOUNT_ATTR__ATIME
            if clear:
                attr_clear |= attr
                attr_set &= ~attr
            else:
                attr_set |= attr
                attr_clear &= ~attr
        elif option in EXTENSIONS:
            extensions.add(option)
        else:
            data.append(option)
    return MountOptions(
        flags, propagation, attr_set, attr_clear, ",".join(data), frozenset(extensions)
    )
