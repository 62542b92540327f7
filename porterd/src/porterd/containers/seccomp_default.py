"""The seccomp profile every container gets unless it is privileged or asks for
`--security-opt seccomp=unconfined` (or a profile of its own), as dockerd applies its default.

Like docker's, it is an allow-list: a syscall that no rule names fails with EPERM, so a
syscall that a newer kernel adds is refused until it is listed here. It is written in
docker's profile format, so `porterd.containers.seccomp` turns it into the runtime-spec
filter, the same path a user's `--security-opt seccomp=FILE` takes; a rule's
`includes.caps` allows a syscall only to a container given that capability
(`--cap-add SYS_ADMIN` may `mount` and `unshare`), and `includes.arches` only on that
machine.

Without CAP_SYS_ADMIN `clone` is allowed only without namespace flags and `clone3`, whose
flags sit in memory a filter cannot read, fails with ENOSYS so that the C library falls back
to `clone`. `personality` is allowed only for the personas docker allows, and `socket` for
every family but AF_VSOCK. The syscall names themselves live in `seccomp_syscalls`.
"""

from __future__ import annotations

from typing import Any

from porterd.containers.seccomp_syscalls import ALLOWED, ALLOWED_ON_ARCH, ALLOWED_WITH_CAP

ENOSYS = 38
AF_VSOCK = 40
CLONE_NAMESPACE_FLAGS = {
    "CLONE_NEWNS": 0x00020000,
    "CLONE_NEWCGROUP": 0x02000000,
    "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000,
    "CLONE_NEWUSER": 0x10000000,
    "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
}
# PER_LINUX, PER_LINUX32, UNAME26, PER_LINUX32|UNAME26, and 0xffffffff (a query)
PERSONAS = (0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF)
ARCH_MAP = (
    ("SCMP_ARCH_X86_64", ("SCMP_ARCH_X86", "SCMP_ARCH_X32")),
    ("SCMP_ARCH_AARCH64", ("SCMP_ARCH_ARM",)),
)


def default_profile() -> dict[str, Any]:
    """The default profile, in docker's format."""
    rules = [_allowed(sorted(ALLOWED))]
    rules += [_allowed(sorted(names), arches=[arch]) for arch, names in ALLOWED_ON_ARCH.items()]
    rules += [_allowed(sorted(names), caps=[cap]) for cap, names in ALLOWED_WITH_CAP.items()]
    rules += [_allowed(["personality"], args=[_arg(0, "SCMP_CMP_EQ", p)]) for p in PERSONAS]
    rules.append(_allowed(["socket"], args=[_arg(0, "SCMP_CMP_NE", AF_VSOCK)]))
    namespace_flags = sum(CLONE_NAMESPACE_FLAGS.values())
    without_namespaces = _arg(0, "SCMP_CMP_MASKED_EQ", namespace_flags, 0)
    rules.append(_without_sys_admin(_allowed(["clone"], args=[without_namespaces])))
    clone3 = {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": ENOSYS}
    rules.append(_without_sys_admin(clone3))
    rules.append(_allowed(["clone", "clone3"], caps=["CAP_SYS_ADMIN"]))
    return {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "archMap": [
            {"architecture": arch, "subArchitectures": list(subs)} for arch, subs in ARCH_MAP
        ],
        "syscalls": rules,
    }


def _allowed(
    names: list[str],
    *,
    caps: list[str] | None = None,
    arches: list[str] | None = None,
    args: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    rule: dict[str, Any] = {"names": names, "action": "SCMP_ACT_ALLOW"}
    includes = {key: value for key, value in (("caps", caps), ("arches", arches)) if value}
    if includes:
        rule["includes"] = includes
    if args:
        rule["args"] = args
    return rule


def _without_sys_admin(rule: dict[str, Any]) -> dict[str, Any]:
    return {**rule, "excludes": {"caps": ["CAP_SYS_ADMIN"]}}


def _arg(index: int, op: str, value: int, value_two: int = 0) -> dict[str, Any]:
    """A condition on argument `index`; for SCMP_CMP_MASKED_EQ `value` is the mask and
    `value_two` what the masked argument must equal."""
    return {"index": index, "value": value, "valueTwo": value_two, "op": op}
