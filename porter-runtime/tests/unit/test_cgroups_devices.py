"""Device rules: v1 emulation of the rule list, and the eBPF program for v2.

The program is checked by running it through a tiny interpreter of the handful of
instructions the generator emits, against the kernel's context layout.
"""

from __future__ import annotations

import struct

import pytest
from porter_runtime.cgroups.base import CgroupError
from porter_runtime.cgroups.devices import WILDCARD, DeviceRule, emulate
from porter_runtime.cgroups.devices_bpf import compile_policy

DENY_ALL = {"allow": False, "access": "rwm"}
ALLOW_ALL = {"allow": True, "access": "rwm"}


def rule(allow, typ="c", major=1, minor=3, access="rwm"):
    return {"allow": allow, "type": typ, "major": major, "minor": minor, "access": access}


def run(program: bytes, typ: str, major: int, minor: int, access: str) -> int:
    """Interpret the program for one request: 1 allows, 0 denies."""
    acc = sum({"m": 1, "r": 2, "w": 4}[c] for c in access)
    ctx = struct.pack("<III", (acc << 16) | {"b": 1, "c": 2}[typ], major, minor)
    regs = [0] * 11
    pc = 0
    insns = [struct.unpack_from("<BBhi", program, i) for i in range(0, len(program), 8)]
    for _ in range(1000):
        code, regs_byte, off, imm = insns[pc]
        dst, src = regs_byte & 0xF, regs_byte >> 4
        pc += 1
        if code == 0x61:
            regs[dst] = struct.unpack_from("<I", ctx, off)[0]
        elif code == 0x54:
            regs[dst] &= imm & 0xFFFFFFFF
        elif code == 0x74:
            regs[dst] >>= imm
        elif code == 0xBC:
            regs[dst] = regs[src] & 0xFFFFFFFF
        elif code == 0xB7:
            regs[dst] = imm
        elif code == 0x55:
            pc += off if regs[dst] != imm else 0
        elif code == 0x5D:
            pc += off if regs[dst] != regs[src] else 0
        elif code == 0x15:
            pc += off if regs[dst] == imm else 0
        elif code == 0x95:
            return regs[0]
        else:
            raise AssertionError(f"unexpected opcode {code:#x}")
    raise AssertionError("program did not exit")


def test_deny_all_then_allow_gives_a_whitelist():
    policy = emulate([DENY_ALL, rule(True)], "/c")
    assert not policy.default_allow
    assert policy.exceptions == (DeviceRule("c", 1, 3, "rwm"),)


def test_a_type_a_rule_resets_all_exceptions():
    policy = emulate([DENY_ALL, rule(True), ALLOW_ALL], "/c")
    assert policy.default_allow and policy.exceptions == ()


def test_a_rule_agreeing_with_the_default_removes_access_from_an_exception():
    policy = emulate([DENY_ALL, rule(True, access="rwm"), rule(False, access="w")], "/c")
    assert policy.exceptions == (DeviceRule("c", 1, 3, "rm"),)


def test_fresh_cgroup_allows_everything():
    assert emulate([], "/c").default_allow


def test_v1_entry_writes_wildcards_as_stars():
    assert DeviceRule("c", 136, WILDCARD, "rwm").v1_entry() == "c 136:* rwm"


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"type": "c"}, "boolean 'allow'"),
        ({"allow": True, "type": "x"}, "not one of a, c, b"),
        ({"allow": True, "type": "c", "access": "rx"}, "letters of 'rwm'"),
        ({"allow": True, "type": "c", "major": "1"}, "not a device number"),
    ],
)
def test_invalid_rules_are_refused_with_the_reason(bad, message):
    with pytest.raises(CgroupError, match=message):
        emulate([bad], "/c")


def test_program_whitelist_allows_only_listed_devices():
    program = compile_policy(emulate([DENY_ALL, rule(True)], "/c"))
    assert run(program, "c", 1, 3, "rw") == 1
    assert run(program, "c", 1, 5, "r") == 0
    assert run(program, "b", 1, 3, "r") == 0


def test_program_whitelist_requires_every_requested_access_bit():
    program = compile_policy(emulate([DENY_ALL, rule(True, access="r")], "/c"))
    assert run(program, "c", 1, 3, "r") == 1
    assert run(program, "c", 1, 3, "rw") == 0


def test_program_wildcard_minor_matches_any_minor():
    program = compile_policy(emulate([DENY_ALL, rule(True, major=136, minor=None)], "/c"))
    assert run(program, "c", 136, 7, "rw") == 1
    assert run(program, "c", 137, 7, "rw") == 0


def test_program_blacklist_denies_any_overlapping_access():
    program = compile_policy(emulate([ALLOW_ALL, rule(False, access="w")], "/c"))
    assert run(program, "c", 1, 3, "r") == 1
    assert run(program, "c", 1, 3, "rw") == 0
    assert run(program, "c", 1, 5, "rw") == 1


def test_program_deny_all_denies_everything():
    program = compile_policy(emulate([DENY_ALL], "/c"))
    assert run(program, "c", 1, 3, "r") == 0
