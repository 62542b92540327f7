"""The seccomp profile every container gets unless it is privileged or asks for
`--security-opt seccomp=unconfined` (or a profile of its own), as dockerd applies its default.

It is written in docker's profile format, so `porterd.containers.seccomp` turns it into the
runtime-spec filter, and a rule's `excludes.caps` hands the syscall back to a container that
was given the capability (`--cap-add SYS_ADMIN` may `mount` and `unshare`, as with docker).

Docker's profile allows a list of syscalls and refuses the rest; this one refuses the
syscalls docker's documentation names as blocked and allows the rest. The effect for the
syscalls of today's kernels is the same; a syscall added by a newer kernel is allowed here
until it is listed. Refused calls fail with EPERM, `clone3` with ENOSYS (so that the C
library falls back to `clone`, whose namespace flags are refused one by one).
"""

from __future__ import annotations

from typing import Any

ENOSYS = 38
CLONE_NAMESPACE_FLAGS = {
    "CLONE_NEWNS": 0x00020000,
    "CLONE_NEWCGROUP": 0x02000000,
    "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000,
    "CLONE_NEWUSER": 0x10000000,
    "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
}

# The syscalls refused by default, by the capabilities that give them back.
_REFUSED_UNLESS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("CAP_SYS_ADMIN",): (
        "mount", "umount", "umount2", "unshare", "setns", "pivot_root", "swapon", "swapoff",
        "quotactl", "quotactl_fd", "lookup_dcookie", "name_to_handle_at", "fanotify_init",
        "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
        "sethostname", "setdomainname",
    ),
    ("CAP_SYS_ADMIN", "CAP_BPF"): ("bpf",),
    ("CAP_SYS_ADMIN", "CAP_PERFMON"): ("perf_event_open",),
    ("CAP_SYS_BOOT",): ("reboot", "kexec_load", "kexec_file_load"),
    ("CAP_SYS_MODULE",): ("init_module", "finit_module", "delete_module"),
    ("CAP_SYS_TIME",): ("settimeofday", "stime", "clock_settime", "clock_adjtime"),
    ("CAP_SYS_PACCT",): ("acct",),
    ("CAP_SYS_RAWIO",): ("iopl", "ioperm"),
    ("CAP_SYS_PTRACE",): (
        "kcmp", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "userfaultfd",
    ),
    ("CAP_SYS_NICE",): ("get_mempolicy", "set_mempolicy", "mbind", "move_pages"),
    ("CAP_DAC_READ_SEARCH",): ("open_by_handle_at",),
    ("CAP_SYSLOG",): ("syslog",),
    ("CAP_SYS_TTY_CONFIG",): ("vhangup",),
    (): (
        "add_key", "request_key", "keyctl", "create_module", "get_kernel_syms", "query_module",
        "nfsservctl", "uselib", "ustat", "sysfs", "_sysctl", "vm86", "vm86old",
        "io_uring_setup", "io_uring_enter", "io_uring_register",
    ),
}  # fmt: skip


def default_profile() -> dict[str, Any]:
    """The default profile, in docker's format."""
    rules: list[dict[str, Any]] = [
        _refused(list(syscalls), caps) for caps, syscalls in _REFUSED_UNLESS.items()
    ]
    rules.append({**_refused(["clone3"], ("CAP_SYS_ADMIN",)), "errnoRet": ENOSYS})
    for flag in CLONE_NAMESPACE_FLAGS.values():
        condition = {"index": 0, "value": flag, "valueTwo": flag, "op": "SCMP_CMP_MASKED_EQ"}
        rules.append({**_refused(["clone"], ("CAP_SYS_ADMIN",)), "args": [condition]})
    return {
        "defaultAction": "SCMP_ACT_ALLOW",
        "archMap": [
            {
                "architecture": "SCMP_ARCH_X86_64",
                "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            },
            {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
        ],
        "syscalls": rules,
    }


def _refused(names: list[str], unless: tuple[str, ...]) -> dict[str, Any]:
    rule: dict[str, Any] = {"names": names, "action": "SCMP_ACT_ERRNO", "errnoRet": 1}
    if unless:
        rule["excludes"] = {"caps": list(unless)}
    return rule
