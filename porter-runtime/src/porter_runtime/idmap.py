"""A new user namespace's uid and gid maps: written directly, or through newuidmap/newgidmap.

The kernel lets a process without CAP_SETUID (CAP_SETGID) over the parent namespace write
only one line that maps its own effective uid (gid, once setgroups is denied), size 1. A
rootless container that maps more (container root to the user, 1..65536 to a subordinate
range) needs shadow's setuid helpers, which allow what /etc/subuid and /etc/subgid (or an
NSS subid module) grant the user. As runc does, the runtime finds them on PATH itself,
runs them with an empty environment, and leaves setgroups alone for a map that goes
through newgidmap (the helper denies it where the grant does not allow it, and otherwise
the container may set its groups). Root writes every map directly; an unprivileged
runtime whose map is its own id alone writes it directly too, after denying setgroups.

Checked before anything is created (`check_helpers`): every helper a map needs is on PATH.
Whether the ranges are the user's is the helper's call alone; its refusal is one line.
"""

from __future__ import annotations

import os

from porter_runtime.errors import ConfigError
from porter_runtime.namespaces import id_map_text

# (file under /proc/<pid>/, config key, helper, the file of the helper's grants)
MAPS = (
    ("uid_map", "uidMappings", "newuidmap", "/etc/subuid"),
    ("gid_map", "gidMappings", "newgidmap", "/etc/subgid"),
)


class IdMapError(ConfigError):
    """A uid or gid map the runtime cannot write: its helper is missing or refused it."""

    def __init__(self, key: str, helper: str, why: str) -> None:
        super().__init__(f"linux.{key}", why)
        self.key = key
        self.helper = helper


def is_own_id(mappings: list[dict], own: int) -> bool:
    """The one map an unprivileged process may write itself: one line, its own id, size 1."""
    return (
        len(mappings) == 1
        and int(mappings[0].get("hostID", -1)) == own
        and int(mappings[0].get("size", 0)) == 1
    )


def helpers_needed(linux: dict, euid: int, egid: int) -> dict[str, str]:
    """{config key: helper} for each map of `linux` the runtime cannot write itself: none as
    root, else every map beyond the runtime's own effective uid (gid)."""
    if euid == 0:
        return {}
    own = {"uidMappings": euid, "gidMappings": egid}
    return {
        key: helper
        for _, key, helper, _ in MAPS
        if linux.get(key) and not is_own_id(linux[key], own[key])
    }


def denies_setgroups(helpers: dict[str, str], euid: int) -> bool:
    """Whether setgroups is denied before the maps are written: by an unprivileged runtime
    that writes gid_map itself (the kernel's condition). newgidmap decides it by the grant."""
    return euid != 0 and "gidMappings" not in helpers


def helper_argv(helper: str, pid: int, mappings: list[dict]) -> list[str]:
    """`helper pid containerID hostID size ...`, newuidmap's and newgidmap's command line."""
    argv = [helper, str(pid)]
    for m in mappings:
        argv += [str(m["containerID"]), str(m["hostID"]), str(m["size"])]
    return argv


def find_helper(name: str, path: str | None) -> str | None:
    """`name` as the first executable file in the absolute directories of `path` (PATH), or
    None: a relative entry (or an empty one, the working directory) would let whoever owns
    the directory the runtime happens to run in choose the program (Go's LookPath refuses
    those too)."""
    for folder in (path or "").split(os.pathsep):
        candidate = os.path.join(folder, name)
        if os.path.isabs(folder) and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def check_helpers(linux: dict) -> None:
    """Every helper the maps need is on PATH (before anything is created)."""
    for key, helper in helpers_needed(linux, os.geteuid(), os.getegid()).items():
        _helper_path(key, helper)


def _helper_path(key: str, helper: str) -> str:
    path = os.environ.get("PATH")
    found = find_helper(helper, path)
    if found is None:
        kind, own = ("gid", os.getegid()) if key == "gidMappings" else ("uid", os.geteuid())
        raise IdMapError(
            key,
            helper,
            f"mapping more than {kind} {own} alone needs {helper} (package uidmap) when "
            f"unprivileged; it is not on PATH {path or '(unset)'}",
        )
    return found


def write_id_maps(pid: int, linux: dict) -> None:
    """Write the uid and gid maps of stage A (`pid`, in its new user namespace), the uid map
    first as runc does: directly where the runtime may, else through the helper."""
    euid = os.geteuid()
    helpers = helpers_needed(linux, euid, os.getegid())
    if denies_setgroups(helpers, euid):
        with open(f"/proc/{pid}/setgroups", "w") as f:
            f.write("deny")
    for name, key, _, grants in MAPS:
        mappings = linux.get(key) or []
        if key in helpers:
            run_helper(key, helpers[key], pid, mappings, grants)
        else:
            with open(f"/proc/{pid}/{name}", "w") as f:
                f.write(id_map_text(mappings))


def run_helper(key: str, helper: str, pid: int, mappings: list[dict], grants: str) -> None:
    """Run newuidmap/newgidmap on `pid` with an empty environment; its refusal becomes one
    IdMapError that carries what it said."""
    import subprocess  # only rootless containers with more than their own ids pay for it

    argv = helper_argv(_helper_path(key, helper), pid, mappings)
    try:
        done = subprocess.run(
            argv, env={}, stdin=subprocess.DEVNULL, capture_output=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise IdMapError(key, helper, f"{argv[0]}: {exc}") from exc
    if done.returncode != 0:
        said = " ".join(done.stderr.decode(errors="replace").split())
        raise IdMapError(
            key,
            helper,
            f"{helper} refused {' '.join(argv[2:])}: {said or f'exit {done.returncode}'} "
            f"(the ranges must be granted to user {_user_name()} in {grants})",
        )


def _user_name() -> str:
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:  # a uid without a passwd entry
        return str(os.getuid())
