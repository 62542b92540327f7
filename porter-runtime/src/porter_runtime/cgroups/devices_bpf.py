"""Device rules on cgroup v2: an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE.

cgroup v2 has no devices controller; the kernel instead runs a BPF program attached to
the cgroup on every device open/mknod, as runc does. We generate the few instructions
ourselves (no compiler needed) and load and attach them with the bpf(2) syscall.

The program reads `struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }`
where access_type is (access << 16) | type, then checks each exception in order and
returns 1 (allow) or 0 (deny); when none matches it returns the policy's default.
"""

from __future__ import annotations

import ctypes
import os
import struct

from porter_runtime.cgroups.base import CgroupError
from porter_runtime.cgroups.devices import WILDCARD, DevicePolicy, DeviceRule

SYS_BPF = {"x86_64": 321, "aarch64": 280, "armv7l": 386, "ppc64le": 361, "s390x": 351}
BPF_PROG_LOAD, BPF_PROG_ATTACH, BPF_PROG_DETACH = 5, 8, 9
BPF_PROG_GET_FD_BY_ID, BPF_PROG_QUERY = 13, 16
BPF_PROG_TYPE_CGROUP_DEVICE = 15
BPF_CGROUP_DEVICE = 6
BPF_F_ALLOW_MULTI = 2
DEV_TYPE = {"b": 1, "c": 2}  # BPF_DEVCG_DEV_BLOCK, BPF_DEVCG_DEV_CHAR
R0, R1, R2, R3, R4, R5 = range(6)
LOG_SIZE = 1 << 16  # for the verifier's reason when it rejects a program


def _insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    return struct.pack("<BBhi", code, (src << 4) | dst, off, imm)


def _load_word(dst: int, offset: int) -> bytes:
    return _insn(0x61, dst, R1, offset)  # BPF_LDX | BPF_MEM | BPF_W


def _return(value: int) -> list[bytes]:
    return [_insn(0xB7, R0, imm=value), _insn(0x95)]  # mov64 r0, imm; exit


def _rule_block(rule: DeviceRule, allow: bool) -> list[bytes]:
    """Instructions testing one exception; every test jumps past the block on a miss."""
    # each check: (instructions before the jump, jump opcode, register, src register, imm)
    checks: list[tuple[list[bytes], int, int, int, int]] = []
    if rule.type in DEV_TYPE:
        checks.append(([], 0x55, R2, 0, DEV_TYPE[rule.type]))  # jne r2, type
    mask = rule.access_mask()
    if mask != 7:
        pre = [_insn(0xBC, R1, R3), _insn(0x54, R1, imm=mask)]  # w1 = w3; w1 &= mask
        if allow:  # every requested bit must be granted: jne r1, r3
            checks.append((pre, 0x5D, R1, R3, 0))
        else:  # any requested bit that is denied denies: jeq r1, 0
            checks.append((pre, 0x15, R1, 0, 0))
    for reg, number in ((R4, rule.major), (R5, rule.minor)):
        if number != WILDCARD:
            checks.append(([], 0x55, reg, 0, number))  # jne reg, number
    tail = _return(1 if allow else 0)
    total = sum(len(pre) + 1 for pre, *_ in checks) + len(tail)
    out: list[bytes] = []
    for pre, code, dst, src, imm in checks:
        out.extend(pre)
        out.append(_insn(code, dst, src, total - len(out) - 1, imm))
    out.extend(tail)
    return out


def compile_policy(policy: DevicePolicy) -> bytes:
    """The program's instructions, ready for BPF_PROG_LOAD."""
    insns = [
        _load_word(R2, 0),
        _insn(0x54, R2, imm=0xFFFF),  # w2 &= 0xffff: device type
        _load_word(R3, 0),
        _insn(0x74, R3, imm=16),  # w3 >>= 16: requested access
        _load_word(R4, 4),
        _load_word(R5, 8),
    ]
    for rule in policy.exceptions:
        insns.extend(_rule_block(rule, allow=not policy.default_allow))
    insns.extend(_return(1 if policy.default_allow else 0))
    return b"".join(insns)


def _bpf(cmd: int, attr: ctypes.Array[ctypes.c_char], what: str, path: str) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    nr = SYS_BPF.get(os.uname().machine)
    if nr is None:
        raise CgroupError(path, "devices", f"bpf(2) number unknown on {os.uname().machine}")
    ret = libc.syscall(ctypes.c_long(nr), ctypes.c_int(cmd), attr, ctypes.c_uint(len(attr)))
    if ret < 0:
        err = ctypes.get_errno()
        raise CgroupError(path, "devices", f"bpf {what}: {os.strerror(err)}")
    return int(ret)


def load_program(program: bytes, path: str) -> int:
    """Load the program into the kernel; returns its fd (the caller closes it).

    Loaded without a verifier log first: the log of a verified program still fills the
    buffer (a line per instruction), and newer kernels fail the load with ENOSPC when it
    does not fit. Only a rejected program is loaded again, with a log, for its reason.
    """
    try:
        return _load(program, path, log_size=0)
    except CgroupError:
        pass
    return _load(program, path, log_size=LOG_SIZE)  # rejected: once more, for the reason


def _load(program: bytes, path: str, log_size: int) -> int:
    insns = ctypes.create_string_buffer(program, len(program))
    license_ = ctypes.create_string_buffer(b"Apache")
    log = ctypes.create_string_buffer(max(log_size, 1))
    attr = ctypes.create_string_buffer(128)
    struct.pack_into(
        "<IIQQIIQ",
        attr,
        0,
        BPF_PROG_TYPE_CGROUP_DEVICE,
        len(program) // 8,
        ctypes.addressof(insns),
        ctypes.addressof(license_),
        1 if log_size else 0,
        log_size,
        ctypes.addressof(log) if log_size else 0,
    )
    try:
        return _bpf(BPF_PROG_LOAD, attr, "load", path)
    except CgroupError as e:
        detail = log.value.decode(errors="replace").strip().splitlines()
        hint = f" ({detail[-1]})" if detail else ""
        raise CgroupError(path, "devices", e.reason + hint) from e


def attached_programs(cgroup_fd: int, path: str) -> list[int]:
    """Ids of the device programs attached to the cgroup right now."""
    ids = (ctypes.c_uint32 * 64)()
    attr = ctypes.create_string_buffer(128)
    struct.pack_into("<IIIIQI", attr, 0, cgroup_fd, BPF_CGROUP_DEVICE, 0, 0, 0, 64)
    struct.pack_into("<Q", attr, 16, ctypes.addressof(ids))
    _bpf(BPF_PROG_QUERY, attr, "query", path)
    (count,) = struct.unpack_from("<I", attr, 24)
    return list(ids[: min(count, 64)])


def install_policy(policy: DevicePolicy, cgroup_dir: str) -> None:
    """Attach the policy's program to the cgroup, then detach whatever was there before.

    Attaching first means there is no moment without a filter, as runc does on update.
    """
    prog_fd = load_program(compile_policy(policy), cgroup_dir)
    try:
        cg_fd = os.open(cgroup_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as e:
        os.close(prog_fd)
        raise CgroupError(cgroup_dir, "devices", f"cannot open: {e.strerror}") from e
    try:
        old = attached_programs(cg_fd, cgroup_dir)
        attr = ctypes.create_string_buffer(128)
        struct.pack_into("<IIII", attr, 0, cg_fd, prog_fd, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI)
        _bpf(BPF_PROG_ATTACH, attr, "attach", cgroup_dir)
        for prog_id in old:
            _detach(cg_fd, prog_id, cgroup_dir)
    finally:
        os.close(cg_fd)
        os.close(prog_fd)


def _detach(cg_fd: int, prog_id: int, path: str) -> None:
    attr = ctypes.create_string_buffer(128)
    struct.pack_into("<I", attr, 0, prog_id)
    old_fd = _bpf(BPF_PROG_GET_FD_BY_ID, attr, "get program", path)
    try:
        attr = ctypes.create_string_buffer(128)
        struct.pack_into("<IIII", attr, 0, cg_fd, old_fd, BPF_CGROUP_DEVICE, 0)
        _bpf(BPF_PROG_DETACH, attr, "detach", path)
    finally:
        os.close(old_fd)
