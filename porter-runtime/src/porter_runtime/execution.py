"""exec: a new process inside a created or running container.

The process joins every namespace of the container's init through /proc/<pid>/ns (the
user namespace first), is moved into the container's cgroup before it forks into the pid
namespace, and gets the same attributes as an init (user, capabilities, rlimits, seccomp,
no_new_privs, terminal) before execve. The runtime learns of success when the last stage's
close-on-exec pipe reaches end-of-file.
"""

from __future__ import annotations

import os

from porter_runtime import container, launch
from porter_runtime import syscalls as sc
from porter_runtime.errors import ConfigError, WrongStateError
from porter_runtime.namespaces import JOIN_ORDER, PROC_NAMES


def _namespace_types(config: dict) -> set[str]:
    return {n["type"] for n in (config.get("linux") or {}).get("namespaces") or []}


def join_list(saved: dict) -> list[tuple[str, str]]:
    """The container init's namespaces that differ from ours, in joining order."""
    pid = saved["pid"]
    kinds = _namespace_types(saved.get("config") or {})
    join = []
    for kind in JOIN_ORDER:
        if kind not in kinds:
            continue
        theirs = f"/proc/{pid}/ns/{PROC_NAMES[kind]}"
        try:
            if os.readlink(theirs) == os.readlink(f"/proc/self/ns/{PROC_NAMES[kind]}"):
                continue  # setns into our own user namespace fails; the rest is a no-op
        except OSError:
            continue
        join.append((kind, theirs))
    return join


def exec_process(
    root: str,
    container_id: str,
    process_config: dict,
    *,
    console_socket: str | None = None,
    pid_file: str | None = None,
    preserve_fds: int = 0,
) -> int:
    """Start the process; returns its host pid (the caller waits for it unless detached)."""
    from porter_runtime.init import InitSpec

    cdir, saved, cgroup, current = container.open_container(root, container_id)
    try:
        if current not in ("created", "running"):
            raise WrongStateError(container_id, current, "exec into", "created or running")
        _check_process(process_config, console_socket)
        config = saved.get("config") or {}
        seccomp = launch.compile_seccomp(config)
        sc.real().prctl(sc.PR_SET_CHILD_SUBREAPER, 1)
        spec = InitSpec(
            config,
            process_config,
            exec_mode=True,
            join=join_list(saved),
            preserve_fds=preserve_fds,
            seccomp=seccomp,
        )
        spec.close_fds.append(cdir.lock_fd)
        if not saved.get("noNewKeyring"):
            spec.keyring = launch.session_keyring_name(container_id)
        if not any(kind == "mount" for kind in _namespace_types(config)):
            spec.root_fd = os.open(f"/proc/{saved['pid']}/root", os.O_PATH | os.O_CLOEXEC)
        if console_socket:
            from porter_runtime.console import connect

            spec.console_fd = connect(console_socket)
        undo = launch.Undo(cdir, owned=False)
        undo.cgroup = cgroup
        launched = {"pid": 0, "container": saved, "status": current}
        try:
            launch.run_stages(spec, launched, undo)
        except BaseException:
            undo.run()
            raise
        finally:
            for fd in (spec.console_fd, spec.root_fd):
                if fd >= 0:
                    os.close(fd)
        if pid_file:
            launch.write_pid_file(pid_file, launched["pid"])
        return launched["pid"]
    finally:
        cdir.unlock()


def _check_process(process_config: dict, console_socket: str | None) -> None:
    from porter_runtime import process
    from porter_runtime.capabilities import check_names

    if not process_config.get("args"):
        raise ConfigError("exec process", "args must name the program to run")
    if process_config.get("terminal") and not console_socket:
        raise ConfigError("exec process.terminal", "a terminal needs --console-socket")
    check_names(process_config.get("capabilities"), "exec process.capabilities")
    process.check_rlimits(process_config.get("rlimits") or [])
    process.check_lsm(process_config, {})
    process.check_scheduling(process_config)


def process_from_flags(base: dict, opts: object) -> dict:
    """runc's exec flags applied to a copy of the container's process."""
    proc = dict(base)
    proc["args"] = list(opts.args[1:])
    proc["terminal"] = bool(opts.tty)
    if opts.cwd:
        proc["cwd"] = opts.cwd
    proc["env"] = [*(base.get("env") or []), *opts.env]
    if opts.user:
        uid, _, gid = opts.user.partition(":")
        try:
            proc["user"] = {**(base.get("user") or {}), "uid": int(uid), "gid": int(gid or 0)}
        except ValueError:
            raise ConfigError(f"--user {opts.user}", "expected uid[:gid] as numbers") from None
    if opts.additional_gids:
        user = dict(proc.get("user") or {"uid": 0, "gid": 0})
        user["additionalGids"] = [int(g) for g in opts.additional_gids]
        proc["user"] = user
    if opts.cap:
        caps = {k: list(v) for k, v in (base.get("capabilities") or {}).items()}
        for name in opts.cap:
            for kind in ("bounding", "effective", "permitted", "inheritable", "ambient"):
                caps.setdefault(kind, [])
                if name not in caps[kind]:
                    caps[kind].append(name)
        proc["capabilities"] = caps
    if opts.no_new_privs:
        proc["noNewPrivileges"] = True
    if opts.apparmor:
        proc["apparmorProfile"] = opts.apparmor
    if opts.process_label:
        proc["selinuxLabel"] = opts.process_label
    return proc
