"""The runtime-spec's seccomp vocabulary and what each word means to the kernel.

Values are libseccomp's (`seccomp.h`): actions are the filter return values, with
the errno or trace data in the low 16 bits; comparison operators are
`enum scmp_compare`; architectures map to libseccomp's names; flags are the bits of
seccomp(2)'s SECCOMP_SET_MODE_FILTER.
"""

from __future__ import annotations

import errno

EPERM = errno.EPERM

ACT_KILL_THREAD = 0x00000000
ACT_KILL_PROCESS = 0x80000000
ACT_TRAP = 0x00030000
ACT_ERRNO = 0x00050000
ACT_NOTIFY = 0x7FC00000
ACT_TRACE = 0x7FF00000
ACT_LOG = 0x7FFC0000
ACT_ALLOW = 0x7FFF0000

# spec action -> (base value, whether errnoRet applies)
ACTIONS: dict[str, tuple[int, bool]] = {
    "SCMP_ACT_KILL": (ACT_KILL_THREAD, False),
    "SCMP_ACT_KILL_THREAD": (ACT_KILL_THREAD, False),
    "SCMP_ACT_KILL_PROCESS": (ACT_KILL_PROCESS, False),
    "SCMP_ACT_TRAP": (ACT_TRAP, False),
    "SCMP_ACT_ERRNO": (ACT_ERRNO, True),
    "SCMP_ACT_TRACE": (ACT_TRACE, True),
    "SCMP_ACT_ALLOW": (ACT_ALLOW, False),
    "SCMP_ACT_LOG": (ACT_LOG, False),
    "SCMP_ACT_NOTIFY": (ACT_NOTIFY, False),
}

OPS: dict[str, int] = {
    "SCMP_CMP_NE": 1,
    "SCMP_CMP_LT": 2,
    "SCMP_CMP_LE": 3,
    "SCMP_CMP_EQ": 4,
    "SCMP_CMP_GE": 5,
    "SCMP_CMP_GT": 6,
    "SCMP_CMP_MASKED_EQ": 7,
}

# spec architecture -> libseccomp's name for it
ARCHES: dict[str, str] = {
    "SCMP_ARCH_X86": "x86",
    "SCMP_ARCH_X86_64": "x86_64",
    "SCMP_ARCH_X32": "x32",
    "SCMP_ARCH_ARM": "arm",
    "SCMP_ARCH_AARCH64": "aarch64",
    "SCMP_ARCH_MIPS": "mips",
    "SCMP_ARCH_MIPS64": "mips64",
    "SCMP_ARCH_MIPS64N32": "mips64n32",
    "SCMP_ARCH_MIPSEL": "mipsel",
    "SCMP_ARCH_MIPSEL64": "mipsel64",
    "SCMP_ARCH_MIPSEL64N32": "mipsel64n32",
    "SCMP_ARCH_PPC": "ppc",
    "SCMP_ARCH_PPC64": "ppc64",
    "SCMP_ARCH_PPC64LE": "ppc64le",
    "SCMP_ARCH_S390": "s390",
    "SCMP_ARCH_S390X": "s390x",
    "SCMP_ARCH_PARISC": "parisc",
    "SCMP_ARCH_PARISC64": "parisc64",
    "SCMP_ARCH_RISCV64": "riscv64",
    "SCMP_ARCH_LOONGARCH64": "loongarch64",
    "SCMP_ARCH_M68K": "m68k",
    "SCMP_ARCH_SH": "sh",
    "SCMP_ARCH_SHEB": "sheb",
}

FLAG_TSYNC = 1
FLAG_LOG = 2
FLAG_SPEC_ALLOW = 4
FLAG_NEW_LISTENER = 8
FLAG_TSYNC_ESRCH = 16
FLAG_WAIT_KILLABLE_RECV = 32

FLAGS: dict[str, int] = {
    "SECCOMP_FILTER_FLAG_TSYNC": FLAG_TSYNC,
    "SECCOMP_FILTER_FLAG_LOG": FLAG_LOG,
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW": FLAG_SPEC_ALLOW,
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV": FLAG_WAIT_KILLABLE_RECV,
}

# seccomp(2) and prctl numbers per machine (os.uname().machine)
SYS_SECCOMP = {
    "x86_64": 317,
    "aarch64": 277,
    "riscv64": 277,
    "armv7l": 383,
    "i686": 354,
    "ppc64le": 358,
    "s390x": 348,
}
SECCOMP_SET_MODE_FILTER = 1
PR_SET_NO_NEW_PRIVS = 38


def action_value(name: str, errno_ret: int | None) -> int:
    """The filter return value for a spec action; errnoRet defaults to EPERM, as in runc."""
    base, takes_errno = ACTIONS[name]
    if not takes_errno:
        return base
    return base | ((EPERM if errno_ret is None else errno_ret) & 0xFFFF)
