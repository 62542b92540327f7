"""The container process's attributes: user, capabilities, rlimits, no_new_privs, OOM score,
I/O priority, scheduler, CPU affinity, personality, LSM labels, environment and executable.

`check_process` runs in the runtime before anything is created, so impossible requests fail
with one clear line and nothing to clean up; `apply_*` run in the container's init.
"""

from __future__ import annotations

import os

from porter_runtime import syscalls as sc
from porter_runtime.capabilities import CapabilityPlan, has_capability
from porter_runtime.errors import ConfigError, SyscallError

RLIMITS = {
    "RLIMIT_CPU": 0,
    "RLIMIT_FSIZE": 1,
    "RLIMIT_DATA": 2,
    "RLIMIT_STACK": 3,
    "RLIMIT_CORE": 4,
    "RLIMIT_RSS": 5,
    "RLIMIT_NPROC": 6,
    "RLIMIT_NOFILE": 7,
    "RLIMIT_MEMLOCK": 8,
    "RLIMIT_AS": 9,
    "RLIMIT_LOCKS": 10,
    "RLIMIT_SIGPENDING": 11,
    "RLIMIT_MSGQUEUE": 12,
    "RLIMIT_NICE": 13,
    "RLIMIT_RTPRIO": 14,
    "RLIMIT_RTTIME": 15,
}
IOPRIO_CLASSES = {"IOPRIO_CLASS_RT": 1, "IOPRIO_CLASS_BE": 2, "IOPRIO_CLASS_IDLE": 3}
SCHED_POLICIES = {
    "SCHED_OTHER": 0,
    "SCHED_FIFO": 1,
    "SCHED_RR": 2,
    "SCHED_BATCH": 3,
    "SCHED_ISO": 4,
    "SCHED_IDLE": 5,
    "SCHED_DEADLINE": 6,
}
SCHED_FLAGS = {
    "SCHED_FLAG_RESET_ON_FORK": 0x1,
    "SCHED_FLAG_RECLAIM": 0x2,
    "SCHED_FLAG_DL_OVERRUN": 0x4,
    "SCHED_FLAG_KEEP_POLICY": 0x8,
    "SCHED_FLAG_KEEP_PARAMS": 0x10,
    "SCHED_FLAG_UTIL_CLAMP_MIN": 0x20,
    "SCHED_FLAG_UTIL_CLAMP_MAX": 0x40,
}
PERSONALITIES = {"LINUX": 0x0000, "LINUX32": 0x0008}
_INFINITY = 2**64 - 1
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def check_rlimits(rlimits: list[dict]) -> None:
    """Reject unknown types, soft above hard, and raising a hard limit without the right."""
    import resource

    may_raise = None
    for limit in rlimits:
        kind = limit["type"]
        if kind not in RLIMITS:
            raise ConfigError(f"rlimit {kind}", "unknown type")
        soft, hard = limit["soft"], limit["hard"]
        if soft > hard:
            raise ConfigError(f"rlimit {kind}", f"soft limit {soft} is above hard limit {hard}")
        current = resource.getrlimit(RLIMITS[kind])[1]
        current = _INFINITY if current == resource.RLIM_INFINITY else current
        if hard > current:
            if may_raise is None:
                may_raise = has_capability("CAP_SYS_RESOURCE")
            if not may_raise:
                raise ConfigError(
                    f"rlimit {kind}",
                    f"hard limit {hard} is above the current hard limit {current} and the "
                    "runtime lacks CAP_SYS_RESOURCE to raise it",
                )


def check_lsm(process: dict, linux: dict) -> None:
    """AppArmor and SELinux labels need the host to have them; empty labels are fine."""
    if process.get("apparmorProfile") and not apparmor_enabled():
        raise ConfigError(
            f"apparmor profile {process['apparmorProfile']!r}",
            "AppArmor is not enabled on this host",
        )
    for what, label in (
        ("process label", process.get("selinuxLabel")),
        ("mount label", linux.get("mountLabel")),
    ):
        if label and not os.path.isdir("/sys/fs/selinux"):
            raise ConfigError(f"SELinux {what} {label!r}", "SELinux is not enabled on this host")


def apparmor_enabled() -> bool:
    try:
        with open("/sys/module/apparmor/parameters/enabled") as f:
            return f.read().startswith("Y") and os.path.isdir("/sys/kernel/security/apparmor")
    except OSError:
        return False


def check_scheduling(process: dict) -> None:
    sched = process.get("scheduler")
    if sched:
        if sched["policy"] not in SCHED_POLICIES:
            raise ConfigError(f"scheduler policy {sched['policy']!r}", "unknown policy")
        for flag in sched.get("flags") or []:
            if flag not in SCHED_FLAGS:
                raise ConfigError(f"scheduler flag {flag!r}", "unknown flag")
    for key in ("initial", "final"):
        value = (process.get("execCPUAffinity") or {}).get(key)
        if value:
            parse_cpus(value)


def parse_cpus(text: str) -> set[int]:
    """A cpu list such as "0-3,7" as a set of cpu numbers."""
    cpus: set[int] = set()
    try:
        for part in text.split(","):
            low, _, high = part.strip().partition("-")
            cpus.update(range(int(low), int(high or low) + 1))
    except ValueError:
        raise ConfigError(f"cpu list {text!r}", "expected numbers and ranges like 0-3,7") from None
    return cpus


def apply_rlimits(rlimits: list[dict]) -> None:
    import resource

    for limit in rlimits:
        try:
            resource.setrlimit(RLIMITS[limit["type"]], (limit["soft"], limit["hard"]))
        except (ValueError, OSError) as exc:
            raise ConfigError(f"rlimit {limit['type']}", str(exc)) from exc


def apply_oom_score(score: int | None) -> None:
    if score is None:
        return
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write(str(score))
    except OSError as exc:
        raise ConfigError(
            f"oomScoreAdj {score}", f"{exc.strerror} (lowering it needs CAP_SYS_RESOURCE)"
        ) from exc


def apply_scheduling(calls: object, process: dict) -> None:
    prio = process.get("ioPriority")
    if prio:
        calls.ioprio_set(IOPRIO_CLASSES[prio["class"]], prio.get("priority", 0))
    sched = process.get("scheduler")
    if sched:
        flags = 0
        for flag in sched.get("flags") or []:
            flags |= SCHED_FLAGS[flag]
        calls.sched_setattr(
            SCHED_POLICIES[sched["policy"]],
            sched.get("nice", 0),
            sched.get("priority", 0),
            flags,
            sched.get("runtime", 0),
            sched.get("deadline", 0),
            sched.get("period", 0),
        )


def apply_affinity(process: dict, key: str) -> None:
    value = (process.get("execCPUAffinity") or {}).get(key)
    if value:
        os.sched_setaffinity(0, parse_cpus(value))


def apply_personality(calls: object, linux: dict) -> None:
    persona = linux.get("personality")
    if persona:
        calls.personality(PERSONALITIES[persona["domain"]])


def apply_lsm_labels(process: dict) -> None:
    """Labels take effect at execve: written to the exec attribute of this process."""
    profile = process.get("apparmorProfile")
    if profile:
        _write_attr("apparmor/exec", "exec", f"exec {profile}")
    label = process.get("selinuxLabel")
    if label:
        _write_attr("exec", "exec", label)


def _write_attr(path: str, fallback: str, value: str) -> None:
    for candidate in (f"/proc/thread-self/attr/{path}", f"/proc/self/attr/{fallback}"):
        try:
            with open(candidate, "w") as f:
                f.write(value)
            return
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise ConfigError(f"security label {value!r}", exc.strerror or str(exc)) from exc


def apply_identity(calls: object, process: dict, caps: CapabilityPlan) -> None:
    """Bounding set, then user and groups (keeping capabilities across setuid), then the
    effective/permitted/inheritable and ambient sets: the order runc uses."""
    user = process.get("user") or {"uid": 0, "gid": 0}
    caps.drop_bounding(calls)
    calls.prctl(sc.PR_SET_KEEPCAPS, 1)
    groups = user.get("additionalGids")
    try:
        if groups is not None or os.getgroups():
            _setgroups(groups or [])
        os.setresgid(user["gid"], user["gid"], user["gid"])
        os.setresuid(user["uid"], user["uid"], user["uid"])
    except OSError as exc:
        raise ConfigError(f"user {user['uid']}:{user['gid']}", exc.strerror or "") from exc
    calls.prctl(sc.PR_SET_KEEPCAPS, 0)
    calls.prctl(sc.PR_SET_DUMPABLE, 0)  # a uid change resets it: keep /proc/<pid>/exe closed
    caps.apply(calls)


def _setgroups(groups: list[int]) -> None:
    try:
        os.setgroups(groups)
    except PermissionError:
        if groups:  # setgroups is denied in some user namespaces: fine when none are asked
            raise


_ENOSYS = 38
KEY_USR_SEARCH = 0x00080000
KEY_OTH_SEARCH = 0x00000008


def join_session_keyring(calls: object, name: str, userns: bool) -> None:
    """A session keyring of the container's own, so that it cannot use the keys of the
    session that started the runtime (runc's default; --no-new-keyring keeps the caller's).

    Named `_ses.<id>` and made searchable by its owner uid ("other" in a user namespace, as
    runc does) so that exec'd processes join the same keyring by name. A kernel without
    keyrings (ENOSYS) has nothing to share either."""
    try:
        serial = calls.join_session_keyring(name)
    except SyscallError as exc:
        if exc.errno == _ENOSYS:
            return
        raise
    perm = calls.keyring_permissions(serial)
    calls.set_keyring_permissions(serial, perm | (KEY_OTH_SEARCH if userns else KEY_USR_SEARCH))


def container_env(process: dict, extra: list[str] | None = None) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in [*(process.get("env") or []), *(extra or [])]:
        key, _, value = item.partition("=")
        env[key] = value
    if "HOME" not in env:
        env["HOME"] = _home_of((process.get("user") or {}).get("uid", 0))
    return env


def _home_of(uid: int) -> str:
    try:
        with open("/etc/passwd") as f:
            for line in f:
                fields = line.rstrip("\n").split(":")
                if len(fields) > 5 and fields[2] == str(uid):
                    return fields[5] or "/"
    except OSError:
        pass
    return "/"


def find_executable(name: str, env: dict[str, str]) -> str:
    """execvp's search, done before start so a missing binary fails create, as in runc."""
    if "/" in name:
        candidates = [name]
    else:
        candidates = [
            os.path.join(d or ".", name) for d in env.get("PATH", DEFAULT_PATH).split(":")
        ]
    for path in candidates:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    if "/" in name and os.path.exists(name):  # there, but execve would fail with EACCES
        why = "is a directory" if os.path.isdir(name) else "permission denied"
        raise ConfigError(f"executable {name!r}", why)
    raise ConfigError(
        f"executable {name!r}",
        "not found in the container"
        + ("" if "/" in name else f" (PATH={env.get('PATH', DEFAULT_PATH)})"),
    )


def set_descriptors(preserve: int) -> None:
    """Only 0-2 and the preserved 3..3+N-1 may reach the container: mark the rest
    close-on-exec (and the preserved ones inheritable)."""
    keep = 3 + preserve
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:  # no /proc here: cover the usual range
        fds = list(range(1024))
    for fd in fds:
        try:  # noqa: SIM105 (contextlib costs start-up time)
            os.set_inheritable(fd, 3 <= fd < keep or fd < 3)
        except OSError:
            pass  # the descriptor listdir itself used


def apply_nnp(calls: object, process: dict) -> None:
    if process.get("noNewPrivileges"):
        calls.prctl(sc.PR_SET_NO_NEW_PRIVS, 1)
