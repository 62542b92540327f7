"""Where a container's cgroup lives: cgroupsPath syntax and the host's cgroup mounts.

The runtime-spec allows an absolute path, a path relative to the runtime's own cgroup,
or nothing. Tools that drive runc with `--systemd-cgroup` pass "slice:prefix:name";
we do not talk to systemd, but place the cgroup where systemd would have, so that
the same config lands in the same place.
"""

from __future__ import annotations

import posixpath

from porter_runtime.cgroups.base import CGROUP_ROOT, CgroupError

DEFAULT_PARENT = "/porter-runtime"
UNIFIED = ""  # the key of the unified hierarchy in /proc/self/cgroup and in mount maps


def resolve(cgroups_path: str | None, container_id: str, own: str = "/") -> str:
    """Turn a config's cgroupsPath into an absolute path inside a hierarchy.

    `own` is the runtime's own cgroup in that hierarchy, the base for relative paths.
    """
    if not cgroups_path:
        return f"{DEFAULT_PARENT}/{container_id}"
    if not cgroups_path.startswith("/") and cgroups_path.count(":") == 2:
        return systemd_path(cgroups_path, container_id)
    if ":" in cgroups_path and not cgroups_path.startswith("/"):
        raise CgroupError(cgroups_path, "cgroupsPath", 'systemd syntax is "slice:prefix:name"')
    base = "/" if cgroups_path.startswith("/") else own
    joined = posixpath.normpath(posixpath.join("/", base, cgroups_path))
    if joined == "/":
        raise CgroupError(cgroups_path, "cgroupsPath", "resolves to the root cgroup")
    return joined


def systemd_path(spec: str, container_id: str) -> str:
    """Map systemd's "slice:prefix:name" to the cgroupfs path systemd would create."""
    slice_name, prefix, name = spec.split(":")
    if not name:
        name = container_id
    unit = name if name.endswith(".slice") else f"{prefix}-{name}.scope" if prefix else name
    if not unit.endswith((".scope", ".slice")):
        unit += ".scope"
    parent = expand_slice(slice_name or "system.slice")
    return posixpath.join("/", parent, unit)


def expand_slice(slice_name: str) -> str:
    """ "a-b-c.slice" -> "a.slice/a-b.slice/a-b-c.slice", as systemd nests slices."""
    if not slice_name.endswith(".slice") or "/" in slice_name:
        raise CgroupError(slice_name, "cgroupsPath", "a systemd slice name must end in .slice")
    stem = slice_name[: -len(".slice")]
    if stem == "-":
        return ""
    if not stem or stem.startswith("-") or stem.endswith("-") or "--" in stem:
        raise CgroupError(slice_name, "cgroupsPath", "invalid systemd slice name")
    parts = stem.split("-")
    return "/".join("-".join(parts[: i + 1]) + ".slice" for i in range(len(parts)))


def own_cgroups(proc_file: str = "/proc/self/cgroup") -> dict[str, str]:
    """Controller (or "name=x", or "" for unified) -> this process's cgroup path."""
    result: dict[str, str] = {}
    try:
        with open(proc_file, encoding="utf-8") as f:
            for line in f:
                _, controllers, path = line.rstrip("\n").split(":", 2)
                for controller in controllers.split(",") if controllers else [UNIFIED]:
                    result[controller] = path
    except OSError:
        pass
    return result


def own_cgroup(controller: str) -> str:
    """This process's cgroup in one controller's hierarchy ("/" when unknown)."""
    return own_cgroups().get(controller, "/")


MOUNTINFO = "/proc/self/mountinfo"


class Mount:
    """One line of mountinfo, as the cgroup code needs it (a plain class: typing's NamedTuple
    costs milliseconds to import at every runtime start)."""

    __slots__ = ("fstype", "options", "point", "root")

    def __init__(self, point: str, fstype: str, root: str, options: str) -> None:
        self.point = point
        self.fstype = fstype
        self.root = root  # the folder of its file system mounted there ("/": all of it)
        self.options = options  # the super options: a v1 hierarchy's controllers


def visible_mounts(mountinfo: str = MOUNTINFO) -> list[Mount]:
    """The mounts of `mountinfo` that a path lookup can reach, in its order.

    A mount stacked over another at the same point hides it and everything mounted below it:
    a cgroup2 mounted over a hybrid host's tmpfs hides the v1 hierarchies, though mountinfo
    still lists them. Unreadable mountinfo reads as no mounts."""
    lines = []
    try:
        with open(mountinfo, encoding="utf-8") as f:
            for line in f:
                fields = line.split()
                sep = fields.index("-")
                options = fields[sep + 3] if len(fields) > sep + 3 else ""
                mount = Mount(_unescape(fields[4]), fields[sep + 1], fields[3], options)
                lines.append((fields[0], fields[1], mount))
    except (OSError, ValueError, IndexError):
        return []
    point_of = {mount_id: mount.point for mount_id, _, mount in lines}
    parent_of = {mount_id: parent for mount_id, parent, _ in lines}
    hidden = {parent for _, parent, mount in lines if point_of.get(parent) == mount.point}

    def reachable(mount_id: str) -> bool:
        """Not covered itself, and not below a covered mount (the one covering it is above)."""
        if mount_id in hidden:
            return False
        seen = set()
        while mount_id in parent_of and mount_id not in seen:
            seen.add(mount_id)
            parent = parent_of[mount_id]
            if parent in hidden and point_of[parent] != point_of[mount_id]:
                return False
            mount_id = parent
        return True

    return [mount for mount_id, _, mount in lines if reachable(mount_id)]


def is_unified(root: str = CGROUP_ROOT, mounts: list[Mount] | None = None) -> bool:
    """True when `root` is a cgroup2 mount, i.e. the host runs the unified hierarchy only.

    What counts is the mount a lookup reaches (`visible_mounts`, by default this process's):
    a cgroup2 mounted over a hybrid host's tmpfs hides the v1 hierarchies."""
    for mount in visible_mounts() if mounts is None else mounts:
        if mount.point == root:
            return mount.fstype == "cgroup2"
    return False


def v1_mounts(mounts: list[Mount] | None = None) -> dict[str, str]:
    """Controller -> mount point for every mounted cgroup v1 hierarchy (of `mounts`, by
    default this process's visible ones).

    Co-mounted controllers ("cpu,cpuacct") map to the same directory. A cgroup2 mount
    next to them (hybrid mode) is included under the key "" so the container joins the
    unified hierarchy too, which gives it cgroup.kill and cgroup.freeze there.
    """
    known = _known_controllers()
    result: dict[str, str] = {}
    unified = None
    for mount in visible_mounts() if mounts is None else mounts:
        if mount.root != "/":
            continue  # a bind of a sub-tree: not the hierarchy's root
        if mount.fstype == "cgroup2" and unified is None:
            unified = mount.point
        if mount.fstype != "cgroup":
            continue
        for opt in mount.options.split(","):
            if (opt in known or opt.startswith("name=")) and opt not in result:
                result[opt] = mount.point
    if unified is not None and result:
        result[UNIFIED] = unified
    return result


def cgroup2_mount(mounts: list[Mount] | None = None) -> str | None:
    """Where the unified hierarchy's root is mounted (/sys/fs/cgroup on v2 hosts), if at all."""
    for mount in visible_mounts() if mounts is None else mounts:
        if mount.fstype == "cgroup2" and mount.root == "/":
            return mount.point
    return None


def _known_controllers() -> set[str]:
    names = {"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids"}
    names |= {"hugetlb", "net_cls", "net_prio", "perf_event", "rdma", "misc"}
    try:
        with open("/proc/cgroups", encoding="utf-8") as f:
            names |= {ln.split()[0] for ln in f if ln.strip() and not ln.startswith("#")}
    except OSError:
        pass
    return names


def _unescape(field: str) -> str:
    """mountinfo escapes spaces and tabs as octal sequences."""
    return field.replace("\\040", " ").replace("\\011", "\t").replace("\\134", "\\")
