"""Validate a config's `linux.seccomp` and compile it to BPF, before the container forks.

Everything that can be wrong with a profile is found here, in the runtime, where the
error can still reach the user as one line: an unknown action, operator, architecture
or flag, a malformed rule. Unknown syscall names are skipped, as runc does, because
profiles list syscalls of newer kernels. The result is plain bytes plus flags, so the
container's init only has to hand them to the kernel.
"""

from __future__ import annotations

import os

from porter_runtime.frozen import Frozen
from porter_runtime.seccomp import tables
from porter_runtime.seccomp.errors import SeccompError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing, dataclasses and logging cost milliseconds at every create
    from collections.abc import Mapping, Sequence
    from typing import Any

MAX_ARGS = 6


class SeccompProgram(Frozen):
    """A compiled filter: `struct sock_filter` bytes and seccomp(2) flags.

    `listener_path` is set when a rule uses SCMP_ACT_NOTIFY; install then asks the
    kernel for a notification fd, which the runtime sends to that socket.
    """

    __slots__ = ("bpf", "flags", "listener_metadata", "listener_path")
    _FIELDS = ("bpf", "flags", "listener_path", "listener_metadata")
    bpf: bytes
    flags: int
    listener_path: str | None
    listener_metadata: str

    def __init__(
        self, bpf: bytes, flags: int, listener_path: str | None = None, listener_metadata: str = ""
    ) -> None:
        super().__init__(bpf, flags, listener_path, listener_metadata)

    @property
    def uses_notify(self) -> bool:
        return self.listener_path is not None


class Condition(Frozen):
    __slots__ = ("index", "op", "value", "value_two")
    _FIELDS = ("index", "op", "value", "value_two")
    index: int
    op: int
    value: int
    value_two: int


class Rule(Frozen):
    __slots__ = ("action", "conditions", "names", "where")
    _FIELDS = ("names", "action", "conditions", "where")
    names: tuple[str, ...]
    action: int
    conditions: tuple[Condition, ...]
    where: str


def _int(value: Any, where: str, low: int = 0, high: int = 2**64 - 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise SeccompError(where, f"{value!r} is not an integer in [{low}, {high}]")
    return value


def _action(name: Any, errno_ret: Any, where: str, errno_where: str) -> int:
    if name not in tables.ACTIONS:
        raise SeccompError(where, f"unknown action {name!r}")
    if errno_ret is not None:
        _int(errno_ret, errno_where, 0, 0xFFFF)
    return tables.action_value(name, errno_ret)


def _condition(raw: Any, where: str) -> Condition:
    if not isinstance(raw, dict):
        raise SeccompError(where, "must be an object with index, value and op")
    index = _int(raw.get("index"), f"{where}.index", 0, MAX_ARGS - 1)
    op = raw.get("op")
    if op not in tables.OPS:
        raise SeccompError(f"{where}.op", f"unknown operator {op!r}")
    value = _int(raw.get("value", 0), f"{where}.value")
    value_two = _int(raw.get("valueTwo", 0), f"{where}.valueTwo")
    return Condition(index, tables.OPS[op], value, value_two)


def _rule(raw: Any, where: str) -> Rule:
    if not isinstance(raw, dict):
        raise SeccompError(where, "must be an object")
    names = raw.get("names")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise SeccompError(f"{where}.names", "must be a non-empty list of syscall names")
    action = _action(raw.get("action"), raw.get("errnoRet"), f"{where}.action", f"{where}.errnoRet")
    args = raw.get("args")
    if args is None:
        args = []
    if not isinstance(args, list):
        raise SeccompError(f"{where}.args", "must be a list")
    conditions = tuple(_condition(a, f"{where}.args[{i}]") for i, a in enumerate(args))
    return Rule(tuple(names), action, conditions, where)


def _flags(raw: Any, uses_notify: bool) -> int:
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise SeccompError("flags", "must be a list")
    flags = 0
    for name in raw:
        if name not in tables.FLAGS:
            raise SeccompError("flags", f"unknown flag {name!r}")
        flags |= tables.FLAGS[name]
    if uses_notify:
        flags |= tables.FLAG_NEW_LISTENER
        if flags & tables.FLAG_TSYNC:
            flags |= tables.FLAG_TSYNC_ESRCH  # TSYNC alone cannot return a listener fd
    else:
        flags &= ~tables.FLAG_WAIT_KILLABLE_RECV  # only meaningful with a listener
    return flags


def _arches(raw: Any) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise SeccompError("architectures", "must be a list")
    for name in raw:
        if name not in tables.ARCHES:
            raise SeccompError("architectures", f"unknown architecture {name!r}")
    return [tables.ARCHES[name] for name in raw]


def validate(seccomp: Any) -> tuple[int, list[str], int, list[Rule]]:
    """Check the whole profile: (default action, arch names, flags, rules)."""
    if not isinstance(seccomp, dict):
        raise SeccompError("linux.seccomp", "must be an object")
    if "defaultAction" not in seccomp:
        raise SeccompError("defaultAction", "is required")
    default = _action(
        seccomp["defaultAction"], seccomp.get("defaultErrnoRet"), "defaultAction", "defaultErrnoRet"
    )
    arches = _arches(seccomp.get("architectures"))
    syscalls = seccomp.get("syscalls")
    if syscalls is None:
        syscalls = []
    if not isinstance(syscalls, list):
        raise SeccompError("syscalls", "must be a list")
    rules = [_rule(r, f"syscalls[{i}]") for i, r in enumerate(syscalls)]
    notify = default == tables.ACT_NOTIFY or any(r.action == tables.ACT_NOTIFY for r in rules)
    if default == tables.ACT_NOTIFY:
        raise SeccompError("defaultAction", "SCMP_ACT_NOTIFY cannot be the default action")
    if notify and not seccomp.get("listenerPath"):
        raise SeccompError("listenerPath", "is required when a rule uses SCMP_ACT_NOTIFY")
    return default, arches, _flags(seccomp.get("flags"), notify), rules


def compile_seccomp(seccomp: Mapping[str, Any]) -> SeccompProgram:
    """Validate the profile and compile it with libseccomp into a SeccompProgram."""
    from porter_runtime.seccomp import libseccomp

    default, arches, flags, rules = validate(seccomp)
    with libseccomp.Filter(default) as filt:
        for name in arches:
            token = libseccomp.arch_token(name)
            if token == 0:
                import logging

                logging.getLogger(__name__).warning(
                    "seccomp: this libseccomp does not know %s; skipped", name
                )
                continue
            filt.add_arch(token)
        for rule in rules:
            if rule.action == default:
                continue  # libseccomp refuses these and they change nothing
            _add_rule(filt, rule)
        bpf = filt.export_bpf()
    notify = bool(flags & tables.FLAG_NEW_LISTENER)
    return SeccompProgram(
        bpf=bpf,
        flags=flags,
        listener_path=seccomp.get("listenerPath") if notify else None,
        listener_metadata=seccomp.get("listenerMetadata") or "",
    )


def _add_rule(filt: Any, rule: Rule) -> None:
    """Add one spec entry; conditions on one argument index become separate rules.

    libseccomp ANDs the conditions of a rule but cannot AND two on the same argument,
    so runc adds each condition as its own rule then (an OR), and so do we.
    """
    from porter_runtime.seccomp.libseccomp import ArgCmp, syscall_number

    conditions = [ArgCmp(c.index, c.op, c.value, c.value_two) for c in rule.conditions]
    indexes = [c.index for c in rule.conditions]
    groups: Sequence[Sequence[ArgCmp]] = [conditions]
    if len(set(indexes)) != len(indexes):
        groups = [[c] for c in conditions]
    for name in rule.names:
        nr = syscall_number(name)
        if nr is None:
            continue  # a syscall of a newer kernel: skipped, as runc does
        for group in groups:
            rc = filt.add_rule(rule.action, nr, group)
            if rc < 0:
                raise SeccompError(f"{rule.where} ({name})", f"libseccomp: {os.strerror(-rc)}")
